"""Staff read money in the admin as customers read it: formatted, with the currency's decimals."""

from decimal import Decimal

import pytest
from django.utils import translation

from kassa.orders.models import Discount, Tax
from tests.factories import DiscountFactory, TaxFactory

pytestmark = pytest.mark.django_db


def test_a_tax_prints_its_percentage_as_people_write_it() -> None:
    TaxFactory.create(name="VAT", percentage=Decimal("20"))
    TaxFactory.create(name="Sales tax", percentage=Decimal("7.5"), inclusive=True)

    # Read back: the database gives Decimal("20.0000"), whose normal form is 2E+1.
    with translation.override("en"):
        assert [str(tax) for tax in Tax.objects.order_by("name")] == [
            "Sales tax 7.5% (inclusive)",
            "VAT 20% (exclusive)",
        ]
    with translation.override("ru"):  # as the customer's cart writes it
        assert str(Tax.objects.get(name="Sales tax")) == "Sales tax 7,5% (inclusive)"


def test_a_discount_prints_its_terms_as_people_write_them() -> None:
    DiscountFactory.create(name="A", percent_off=Decimal("10"))
    DiscountFactory.create(name="B", percent_off=Decimal("12.5"))
    DiscountFactory.create(
        name="C", kind="amount", percent_off=None, amount_off=Decimal("5"), currency="usd"
    )
    DiscountFactory.create(
        name="D", kind="amount", percent_off=None, amount_off=Decimal("500"), currency="jpy"
    )

    with translation.override("en"):
        assert [str(discount) for discount in Discount.objects.order_by("name")] == [
            "A (10% off)",
            "B (12.5% off)",
            "C ($5.00 off)",
            "D (¥500 off)",
        ]
    with translation.override("ru"):
        assert str(Discount.objects.get(name="C")) == "C (5,00\xa0$ off)"
