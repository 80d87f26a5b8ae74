"""The discount's admin: its rules' fields, a minimum typed per currency, its uses and sales."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kassa.orders.models import Discount, Order

pytestmark = pytest.mark.django_db

# The Stripe coupons made for it, an inline of its page (none on a new discount).
INLINE = {"stripe_coupons-TOTAL_FORMS": "0", "stripe_coupons-INITIAL_FORMS": "0"}


@pytest.fixture
def owner() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("owner", "owner@example.com", "pw"))
    return client


def test_a_discount_is_made_with_its_rules_and_lists_its_uses(owner: Client) -> None:
    response = owner.post(
        "/admin/orders/discount/add/",
        {
            "name": "First hundred",
            "kind": "percent",
            "percent_off": "15",
            "code": "FIRST100",
            "active": "on",
            "valid_from_0": "2026-12-01",
            "valid_from_1": "00:00:00",
            "valid_until_0": "2026-12-31",
            "valid_until_1": "23:59:59",
            "max_uses": "100",
            "max_uses_per_customer": "1",
            "min_subtotal": "eur 50, USD 60.00",
            **INLINE,
        },
    )
    assert response.status_code == 302
    discount = Discount.objects.get(code="FIRST100")
    assert discount.min_subtotal == {"eur": "50", "usd": "60.00"}
    assert (discount.max_uses, discount.max_uses_per_customer) == (100, 1)
    Order.objects.create(
        currency="eur", status=Order.Status.PAID, discount=discount, amount_paid=4250
    )
    listing = owner.get("/admin/orders/discount/")
    assert listing.status_code == 200
    assert "1 / 100" in listing.content.decode()
    page = owner.get(f"/admin/orders/discount/{discount.pk}/change/").content.decode()
    assert "EUR 50, USD 60.00" in page
    assert "1 ×" in page


def test_a_minimum_in_no_currency_is_refused(owner: Client) -> None:
    response = owner.post(
        "/admin/orders/discount/add/",
        {"name": "X", "kind": "percent", "percent_off": "5", "min_subtotal": "50 euros", **INLINE},
    )
    assert response.status_code == 200
    assert "Write each minimum as a currency and an amount" in response.content.decode()
    assert not Discount.objects.exists()
