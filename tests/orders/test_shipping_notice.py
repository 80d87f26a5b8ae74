"""The cart says what shipping will cost, or that none is charged because the shop has no rate
in the order's currency (never silently free); the admin names such currencies."""

from decimal import Decimal

import pytest
from django.test import Client

from kassa.orders.models import Order, ShippingRate
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def _cart(client: Client, item_id: int) -> Order:
    response = client.post(f"/item/{item_id}/add-to-order/", headers={"Accept": "application/json"})
    assert response.status_code in (200, 201), response.content
    return Order.objects.get()


def test_the_cart_says_shipping_is_chosen_at_checkout_and_from_how_much(client: Client) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("4.00"), currency="usd")
    ShippingRate.objects.create(name="Courier", amount=Decimal("9.00"), currency="usd")
    order = _cart(client, ItemFactory.create(price=Decimal("10.00")).pk)

    page = client.get(f"/orders/{order.pk}/").text

    assert "chosen at checkout, from $4.00" in page
    assert "Total before shipping" in page


def test_digital_goods_show_no_shipping_row(client: Client) -> None:
    order = _cart(client, ItemFactory.create(requires_shipping=False).pk)
    page = client.get(f"/orders/{order.pk}/").text
    assert "chosen at checkout" not in page
    assert "no shipping rate" not in page


def test_without_a_rate_in_its_currency_the_cart_says_no_shipping_is_charged(
    client: Client,
) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("4.00"), currency="usd")
    order = _cart(client, ItemFactory.create(currency="eur", price=Decimal("10.00")).pk)

    page = client.get(f"/orders/{order.pk}/").text

    assert "no shipping rate for orders in EUR yet, so no shipping is charged" in page
    assert "Total before shipping" not in page


def test_the_admin_names_currencies_without_a_rate(admin_client: Client) -> None:
    ItemFactory.create(currency="eur")
    ItemFactory.create(currency="usd", requires_shipping=False)

    page = admin_client.get("/admin/orders/shippingrate/").text

    assert "No active shipping rate in EUR" in page
    assert "USD" not in page.split("No active shipping rate in")[1].split("</li>")[0]
