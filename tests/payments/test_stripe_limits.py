"""Stripe's limits on one payment are the shop's: an order Stripe would refuse is refused before
Stripe is called, with a message the customer can act on (the cart says it before Pay)."""

from decimal import Decimal

import pytest
from django.test import Client

from kassa.catalog.models import Item
from kassa.orders.models import Order, OrderLine
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import JSON, cart
from tests.payments.test_payment_intents import start

pytestmark = pytest.mark.django_db


def cart_of(client: Client, count: int) -> Order:
    """A cart of `count` distinct items (the first added as a customer adds it)."""
    order = cart(client, (ItemFactory.create(requires_shipping=False).pk, 1))
    OrderLine.objects.bulk_create(
        OrderLine(order=order, item=item, quantity=1, unit_price=item.price)
        for item in Item.objects.bulk_create(
            Item(name=f"Thing {n}", price=Decimal("1.00"), currency="usd", requires_shipping=False)
            for n in range(count - 1)
        )
    )
    return order


def test_a_cart_takes_at_most_100_different_items(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart_of(client, 100)
    more = ItemFactory.create()

    refused = client.post(f"/item/{more.pk}/add-to-order/", {"quantity": 1}, headers=JSON)

    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_lines"
    assert "at most 100 different items" in refused.json()["error"]
    assert order.lines.count() == 100
    # One more of an item already in it is no new line.
    again = client.post(f"/item/{more.pk}/add-to-order/", {"quantity": 1}, headers=JSON)
    assert again.status_code == 409
    first = order.lines.order_by("pk").first()
    assert first is not None
    added = client.post(f"/item/{first.item_id}/add-to-order/", {"quantity": 1}, headers=JSON)
    assert added.status_code == 200


def test_a_cart_of_100_items_is_one_session(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart_of(client, 100)
    assert client.get(f"/orders/{order.pk}/buy/").status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert len(created.body["line_items"]) == 100


def test_a_cart_of_101_items_is_refused_before_stripe(
    client: Client, fake_stripe: FakeStripe
) -> None:
    """A merged cart (signing in with a cart in each browser) can hold more than one add
    allows: the cart says so, and neither payment starts."""
    order = cart_of(client, 101)

    page = client.get(f"/orders/{order.pk}/").text
    assert 'id="cart-problems"' in page
    assert "at most 100 different items; this one has 101" in page
    assert 'disabled aria-describedby="cart-problems"' in page  # the Buy button
    assert "at most 100" in client.get(f"/orders/{order.pk}/", headers=JSON).json()["problems"][0]

    checkout = client.get(f"/orders/{order.pk}/buy/")
    card = start(client, order)

    for refused in (checkout, card):
        assert refused.status_code == 409
        assert refused.json()["code"] == "too_many_lines"
    assert fake_stripe.requests == []
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert not order.reservations.exists()


@pytest.mark.parametrize(
    ("price", "currency", "least"),
    [("0.49", "usd", "$0.50"), ("0.29", "gbp", "£0.30"), ("49", "jpy", "¥50")],
)
def test_buy_now_below_stripes_smallest_charge_is_refused_before_stripe(
    client: Client, fake_stripe: FakeStripe, price: str, currency: str, least: str
) -> None:
    item = ItemFactory.create(price=Decimal(price), currency=currency, stock=5)

    refused = client.get(f"/buy/{item.pk}")

    assert refused.status_code == 409
    assert refused.json()["code"] == "below_minimum_charge"
    assert least in refused.json()["error"]
    assert fake_stripe.requests == []
    assert not Order.objects.exists()  # nothing half-written, nothing held
    item.refresh_from_db()
    assert item.reserved == 0


@pytest.mark.parametrize(("price", "currency"), [("0.50", "usd"), ("50", "jpy"), ("0.50", "eur")])
def test_stripes_smallest_charge_itself_is_paid(
    client: Client, fake_stripe: FakeStripe, price: str, currency: str
) -> None:
    item = ItemFactory.create(price=Decimal(price), currency=currency)
    assert client.get(f"/buy/{item.pk}").status_code == 200
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1


def test_a_cart_below_the_smallest_charge_says_so_and_is_not_sent(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("0.20"), requires_shipping=False).pk, 2))

    page = client.get(f"/orders/{order.pk}/").text
    assert 'disabled aria-describedby="cart-problems"' in page
    assert "The smallest payment in USD is $0.50; this order comes to $0.40." in page
    for refused in (client.get(f"/orders/{order.pk}/buy/"), start(client, order)):
        assert refused.status_code == 409
        assert refused.json()["code"] == "below_minimum_charge"
    assert fake_stripe.requests == []

    # One more makes it payable.
    cart(client, (order.lines.get().item_id, 1))
    assert client.get(f"/orders/{order.pk}/buy/").status_code == 200
