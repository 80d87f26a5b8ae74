"""Staff read money in the admin as customers read it: formatted, with the currency's decimals."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone, translation

from kassa.common.admin_money import in_currency
from kassa.orders.models import Discount, Order, Tax
from tests.factories import DiscountFactory, ItemFactory, TaxFactory

pytestmark = pytest.mark.django_db


def readonly_value(page: str, label: str) -> str:
    """The text the admin shows beside a read-only field's label."""
    found = re.search(
        rf"<label>{re.escape(label)}:</label>\s*<div class=\"readonly\">(.*?)</div>", page, re.S
    )
    assert found, f"no read-only field {label!r} in the page"
    return found.group(1).strip()


def input_value(page: str, name: str) -> str:
    found = re.search(rf'<input [^>]*name="{re.escape(name)}"[^>]*>', page)
    assert found, f"no input {name!r} in the page"
    value = re.search(r'value="([^"]*)"', found.group(0))
    assert value, f"input {name!r} has no value"
    return value.group(1)


def paid(currency: str, amount_paid: int, amount_refunded: int = 0) -> Order:
    status = Order.Status.PARTIALLY_REFUNDED if amount_refunded else Order.Status.PAID
    return Order.objects.create(
        currency=currency,
        status=status,
        amount_paid=amount_paid,
        amount_refunded=amount_refunded,
        paid_at=timezone.now(),
    )


def test_an_orders_paid_and_refunded_amounts_are_money(admin_client: Client) -> None:
    order = paid("usd", amount_paid=8899, amount_refunded=1250)

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").text

    assert readonly_value(page, "Amount paid") == "$88.99"
    assert readonly_value(page, "Amount refunded") == "$12.50"
    assert "8899" not in page


def test_a_zero_decimal_order_shows_no_decimals(admin_client: Client) -> None:
    order = paid("jpy", amount_paid=1500)

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").text

    assert readonly_value(page, "Amount paid") == "¥1,500"
    assert readonly_value(page, "Amount refunded") == "¥0"


def test_an_unpaid_order_shows_nothing_paid(admin_client: Client) -> None:
    order = Order.objects.create(currency="usd")

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").text

    assert readonly_value(page, "Amount paid") == "-"


def test_the_order_list_shows_what_was_paid(admin_client: Client) -> None:
    paid("eur", amount_paid=4200)

    listing = admin_client.get("/admin/orders/order/").text

    assert "€42.00" in listing
    assert "4200" not in listing


def test_amounts_follow_the_staff_members_language(admin_client: Client) -> None:
    order = paid("eur", amount_paid=4200)

    page = admin_client.get(
        f"/admin/orders/order/{order.pk}/change/", headers={"Accept-Language": "ru"}
    ).text

    assert readonly_value(page, "Оплачено") == "42,00\xa0€"


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


def test_the_tax_list_shows_percentages_as_people_write_them(admin_client: Client) -> None:
    TaxFactory.create(percentage=Decimal("20"))

    listing = admin_client.get("/admin/orders/tax/").text

    assert '<td class="field-display_percentage">20%</td>' in listing
    assert "20.0000" not in listing


def test_the_item_form_shows_a_price_with_its_currencys_decimals(admin_client: Client) -> None:
    usd = ItemFactory.create(price=Decimal("14.5"), currency="usd")
    jpy = ItemFactory.create(price=Decimal("1500"), currency="jpy")
    kwd = ItemFactory.create(price=Decimal("1.25"), currency="kwd")

    def price_in_form(item_pk: int) -> str:
        return input_value(admin_client.get(f"/admin/catalog/item/{item_pk}/change/").text, "price")

    assert price_in_form(usd.pk) == "14.50"
    assert price_in_form(jpy.pk) == "1500"
    assert price_in_form(kwd.pk) == "1.250"


def test_the_item_form_saves_the_price_it_shows(admin_client: Client) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("14.5"), currency="usd")
    page = admin_client.get(f"/admin/catalog/item/{item.pk}/change/").text

    response = admin_client.post(
        f"/admin/catalog/item/{item.pk}/change/",
        {
            "name_en": "Mug",
            "description_en": "",
            "price": input_value(page, "price"),
            "currency": "usd",
            "stock_seen": "",  # not tracked
        },
    )

    assert response.status_code == 302, response.content
    item.refresh_from_db()
    assert item.price == Decimal("14.5")


def test_an_open_orders_lines_show_prices_with_the_currencys_decimals(
    admin_client: Client,
) -> None:
    item = ItemFactory.create(price=Decimal("14.5"), currency="usd")
    order = Order.objects.create(currency="usd")
    order.lines.create(item=item, quantity=2, unit_price=item.price)

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").text

    assert input_value(page, "lines-0-unit_price") == "14.50"


def test_a_paid_orders_lines_show_prices_as_money(admin_client: Client) -> None:
    item = ItemFactory.create(price=Decimal("1500"), currency="jpy")
    order = paid("jpy", amount_paid=3000)
    order.lines.create(item=item, quantity=2, unit_price=item.price)

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").text

    assert 'name="lines-0-unit_price"' not in page  # read-only once paid
    cell = re.search(r'<td class="field-display_unit_price">\s*<p>(.*?)</p>', page, re.S)
    assert cell, "no unit price in the lines"
    assert cell.group(1).strip() == "¥1,500"
    assert "1500.000" not in page


def test_a_discounts_fixed_amount_shows_with_the_currencys_decimals(
    admin_client: Client,
) -> None:
    discount = DiscountFactory.create(
        kind="amount", percent_off=None, amount_off=Decimal("500"), currency="jpy"
    )

    form = admin_client.get(f"/admin/orders/discount/{discount.pk}/change/").text
    listing = admin_client.get("/admin/orders/discount/").text

    assert input_value(form, "amount_off") == "500"
    assert "¥500" in listing
    assert "500.000" not in listing


def test_the_terms_of_a_used_discount_read_as_money(admin_client: Client) -> None:
    discount = DiscountFactory.create(
        kind="amount", percent_off=None, amount_off=Decimal("5"), currency="usd"
    )
    order = paid("usd", amount_paid=1000)
    Order.objects.filter(pk=order.pk).update(discount=discount)

    form = admin_client.get(f"/admin/orders/discount/{discount.pk}/change/").text

    assert 'name="amount_off"' not in form
    assert readonly_value(form, "Amount off") == "$5.00"


def test_only_trailing_zeros_are_dropped() -> None:
    assert str(in_currency(Decimal("14.500"), "usd")) == "14.50"
    assert str(in_currency(Decimal("1500.000"), "jpy")) == "1500"
    # More decimals than the currency has: left alone, so saving the form cannot round it.
    assert str(in_currency(Decimal("1.999"), "usd")) == "1.999"
    assert str(in_currency(Decimal("1.5"), "xyz")) == "1.5"
