"""The cart says what shipping will cost; goods to send in a currency the shop has no shipping
rate in are never sent free by omission: the customer is told and cannot start a payment
(cart, Buy now, the card page, the API), and the admin names such currencies. Digital goods
need no rate."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from kassa.orders.models import Order, ShippingRate
from tests.api.test_api import Api
from tests.factories import DiscountFactory, ItemFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

NO_RATE = "does not ship orders in EUR yet"


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


def test_a_free_shipping_code_makes_the_cart_say_free_as_checkout_will(client: Client) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("4.00"), currency="usd")
    ShippingRate.objects.create(name="Courier", amount=Decimal("9.00"), currency="usd")
    DiscountFactory.create(code="SHIPFREE", kind="free_shipping", percent_off=None)
    order = _cart(client, ItemFactory.create(price=Decimal("10.00")).pk)
    assert "chosen at checkout, from $4.00" in client.get(f"/orders/{order.pk}/").text

    assert client.post(f"/orders/{order.pk}/discount", {"code": "shipfree"}).status_code == 302
    page = client.get(f"/orders/{order.pk}/").text

    assert '<td class="num" id="shipping">Free</td>' in page
    assert "chosen at checkout" not in page
    assert "Total before shipping" not in page
    assert '<td class="num" id="total">$10.00</td>' in page

    # Taken off again: the cheapest rate is back.
    assert client.post(f"/orders/{order.pk}/discount", {"remove": "1"}).status_code == 302
    assert "chosen at checkout, from $4.00" in client.get(f"/orders/{order.pk}/").text


def test_when_every_choice_is_free_the_cart_says_free_and_its_total_is_final(
    client: Client,
) -> None:
    order = _cart(client, ItemFactory.create(price=Decimal("10.00")).pk)  # a free rate only

    page = client.get(f"/orders/{order.pk}/").text

    assert '<td class="num" id="shipping">Free</td>' in page
    assert "chosen at checkout" not in page
    assert "Total before shipping" not in page


def test_digital_goods_show_no_shipping_row(client: Client) -> None:
    order = _cart(client, ItemFactory.create(requires_shipping=False).pk)
    page = client.get(f"/orders/{order.pk}/").text
    assert "chosen at checkout" not in page
    assert "ship orders in" not in page


def test_without_a_rate_in_its_currency_the_cart_says_so_and_cannot_be_paid(
    client: Client, fake_stripe: FakeStripe
) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("4.00"), currency="usd")
    item = ItemFactory.create(currency="eur", price=Decimal("10.00"), shipping_rate=False)
    order = _cart(client, item.pk)

    page = client.get(f"/orders/{order.pk}/").text
    assert NO_RATE in page
    assert 'disabled aria-describedby="cart-problems"' in page
    assert 'id="pay-here"' not in page
    assert "Total before shipping" not in page

    # Nothing reaches Stripe: the order is refused before a payment begins, and stays a cart.
    response = client.get(f"/orders/{order.pk}/buy/", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json()["code"] == "no_shipping_rate"
    assert NO_RATE in response.json()["error"]
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert not order.reservations.exists()
    assert not fake_stripe.requests


def test_buy_now_without_a_rate_answers_a_clear_409_and_writes_nothing(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(currency="eur", stock=3, shipping_rate=False)

    response = client.get(f"/buy/{item.pk}", headers={"Accept": "application/json"})

    assert response.status_code == 409, response.content
    assert response.json() == {
        "error": response.json()["error"],
        "code": "no_shipping_rate",
    }
    assert NO_RATE in response.json()["error"]
    assert not Order.objects.exists()
    assert not fake_stripe.requests
    item.refresh_from_db()
    assert (item.stock, item.reserved) == (3, 0)


def test_the_product_page_says_so_before_buy(client: Client) -> None:
    item = ItemFactory.create(currency="eur", shipping_rate=False)
    page = client.get(f"/item/{item.pk}").text
    assert 'id="shipping-notice"' in page
    assert NO_RATE in page

    ShippingRate.objects.create(name="Post", amount=Decimal("4.00"), currency="eur")
    assert NO_RATE not in client.get(f"/item/{item.pk}").text


def test_the_card_page_cannot_start_a_payment_either(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(currency="eur", shipping_rate=False)
    response = client.post(
        f"/item/{item.pk}/payment-intent/", headers={"Accept": "application/json"}
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "no_shipping_rate"
    assert not Order.objects.exists()


def test_digital_goods_in_a_currency_without_a_rate_are_bought(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(currency="eur", requires_shipping=False)
    assert not ShippingRate.objects.exists()

    response = client.get(f"/buy/{item.pk}", headers={"Accept": "application/json"})

    assert response.status_code == 200, response.content
    assert Order.objects.get().status == Order.Status.PENDING
    assert fake_stripe.requests_to("POST", "/v1/checkout/sessions")


def test_an_inactive_rate_is_no_rate(client: Client, fake_stripe: FakeStripe) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal(4), currency="eur", active=False)
    item = ItemFactory.create(currency="eur", shipping_rate=False)
    response = client.get(f"/buy/{item.pk}", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json()["code"] == "no_shipping_rate"


def test_the_admin_names_currencies_without_a_rate(admin_client: Client) -> None:
    ItemFactory.create(currency="eur", shipping_rate=False)
    ItemFactory.create(currency="usd", requires_shipping=False)

    page = admin_client.get("/admin/orders/shippingrate/").text

    assert "No active shipping rate in EUR" in page
    assert "USD" not in page.split("No active shipping rate in")[1].split("</li>")[0]


def test_the_dashboard_needs_attention_panel_names_them(admin_client: Client) -> None:
    ItemFactory.create(currency="eur", shipping_rate=False)
    ItemFactory.create(currency="jpy", price=Decimal(1800), shipping_rate=False)
    ItemFactory.create(currency="gbp", requires_shipping=False)
    ItemFactory.create(currency="chf", is_active=False, shipping_rate=False)

    page = admin_client.get("/admin/").text

    assert 'id="no-shipping-rate"' in page
    warning = page.split('id="no-shipping-rate"')[1].split("</li>")[0]
    assert "No shipping rate in EUR, JPY" in warning
    assert "GBP" not in warning
    assert "CHF" not in warning
    assert "/admin/orders/shippingrate/" in warning

    ShippingRate.objects.create(name="Post", amount=Decimal(4), currency="eur")
    ShippingRate.objects.create(name="Post", amount=Decimal(600), currency="jpy")
    assert 'id="no-shipping-rate"' not in admin_client.get("/admin/").text


def test_staff_without_the_shipping_rates_see_the_warning_without_a_link(client: Client) -> None:
    from django.contrib.auth.models import Permission

    ItemFactory.create(currency="eur", shipping_rate=False)
    user = User.objects.create_user("clerk", password="pw-for-tests-only", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(user)

    warning = client.get("/admin/").text.split('id="no-shipping-rate"')[1].split("</li>")[0]

    assert "No shipping rate in EUR" in warning
    assert "<a " not in warning


def test_the_api_lists_the_problem_and_refuses_checkout_and_buy(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(currency="eur", shipping_rate=False)
    api = Api()
    api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 1})
    order = Order.objects.get()

    cart = api.get("/cart").json()
    checkout = api.send("post", f"/orders/{order.pk}/checkout")
    buy = api.send("post", f"/items/{item.pk}/buy")

    assert any(NO_RATE in problem for problem in cart["problems"])
    assert (checkout.status_code, checkout.json()["code"]) == (409, "no_shipping_rate")
    assert (buy.status_code, buy.json()["code"]) == (409, "no_shipping_rate")
    assert not fake_stripe.requests
