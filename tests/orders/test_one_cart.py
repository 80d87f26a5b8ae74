"""One open cart per visitor, held by the database; an order whose payment is cancelled becomes
the visitor's cart again, with what they put in a newer cart meanwhile."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.test import Client

from kassa.orders.models import Order
from kassa.payments.flow import checkout_cancel
from kassa.payments.models import PaymentAttempt
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import cart
from tests.storefront.test_query_counts import visitor

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}


def open_orders() -> list[Order]:
    return list(Order.objects.filter(status=Order.Status.OPEN).order_by("pk"))


def lines_of(order: Order) -> dict[str, int]:
    return {line.item.name: line.quantity for line in order.lines.select_related("item")}


def test_the_database_refuses_a_second_open_order_for_one_visitor() -> None:
    Order.objects.create(currency="usd", visitor_token="t" * 32)
    Order.objects.create(currency="usd", visitor_token="t" * 32, status="pending")
    Order.objects.create(currency="usd", visitor_token="")  # no visitor: staff's, the demo's
    Order.objects.create(currency="usd", visitor_token="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(currency="usd", visitor_token="t" * 32)


def _add_at_once(client: Client, item_id: int, clicks: int) -> list[int]:
    statuses: list[int] = []
    go = threading.Barrier(clicks)

    def click() -> None:
        try:
            go.wait()
            response = client.post(f"/item/{item_id}/add-to-order/", {"quantity": 1}, headers=JSON)
            statuses.append(response.status_code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("clicks", [2, 10])
def test_concurrent_first_adds_make_one_cart(clicks: int) -> None:
    """A returning visitor (a session, no cart yet) double-clicks Add, or ten tabs add at once."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are checked in the PostgreSQL pass (make test-postgres)")
    client = Client()
    token = visitor(client)
    item = ItemFactory.create(name="Mug")

    statuses = _add_at_once(client, item.pk, clicks)

    assert sorted(statuses) == [200] * (clicks - 1) + [201]  # one made the cart
    [the_cart] = Order.objects.filter(visitor_token=token)
    assert lines_of(the_cart) == {"Mug": clicks}


def test_a_double_click_on_add_makes_one_cart(client: Client) -> None:
    item = ItemFactory.create(name="Mug")
    for _ in range(2):
        client.post(f"/item/{item.pk}/add-to-order/", {"quantity": 1})
    [the_cart] = open_orders()
    assert lines_of(the_cart) == {"Mug": 2}


def test_a_cancelled_checkout_takes_in_the_cart_started_meanwhile(
    client: Client, fake_stripe: FakeStripe
) -> None:
    mug = ItemFactory.create(name="Mug")
    towel = ItemFactory.create(name="Towel")
    first = cart(client, (mug.pk, 2))
    assert client.get(f"/orders/{first.pk}/buy/").status_code == 200
    newer = cart(client, (mug.pk, 1), (towel.pk, 3))  # a new cart: the first is in Checkout
    assert newer.pk != first.pk

    first.refresh_from_db()
    checkout_cancel(order=first, source="customer cancelled")

    [the_cart] = open_orders()
    assert the_cart.pk == first.pk
    assert lines_of(the_cart) == {"Mug": 3, "Towel": 3}
    assert not Order.objects.filter(pk=newer.pk).exists()
    page = client.get("/orders/", headers=JSON)
    assert page.status_code == 200


def test_a_cancelled_buy_now_becomes_the_cart_with_its_lines(
    client: Client, fake_stripe: FakeStripe
) -> None:
    mug = ItemFactory.create(name="Mug")
    towel = ItemFactory.create(name="Towel")
    basket = cart(client, (towel.pk, 1))
    bought = client.get(f"/buy/{mug.pk}").json()
    buy_order = Order.objects.get(pk=bought["order_id"])

    checkout_cancel(order=buy_order, source="customer cancelled")

    [the_cart] = open_orders()
    assert the_cart.pk == buy_order.pk
    assert lines_of(the_cart) == {"Mug": 1, "Towel": 1}
    assert not Order.objects.filter(pk=basket.pk).exists()
    # The cart the pages show is that one.
    added = client.post(f"/item/{towel.pk}/add-to-order/", {"quantity": 1}, headers=JSON)
    assert added.json()["id"] == buy_order.pk
    assert lines_of(the_cart) == {"Mug": 1, "Towel": 2}


def test_a_newer_cart_in_another_currency_is_set_aside(
    client: Client, fake_stripe: FakeStripe
) -> None:
    mug = ItemFactory.create(name="Mug")
    euro = ItemFactory.create(name="Tasse", currency="eur", price=Decimal("9.00"))
    basket = cart(client, (euro.pk, 1))
    buy_order = Order.objects.get(pk=client.get(f"/buy/{mug.pk}").json()["order_id"])

    checkout_cancel(order=buy_order, source="customer cancelled")

    [the_cart] = open_orders()[-1:]
    assert the_cart.pk == buy_order.pk
    assert lines_of(the_cart) == {"Mug": 1}
    basket.refresh_from_db()
    assert (basket.status, basket.visitor_token, lines_of(basket)) == ("open", "", {"Tasse": 1})


def test_a_newer_cart_with_payment_history_is_emptied_and_set_aside(
    client: Client, fake_stripe: FakeStripe
) -> None:
    mug = ItemFactory.create(name="Mug")
    towel = ItemFactory.create(name="Towel")
    first = cart(client, (mug.pk, 1))
    client.get(f"/orders/{first.pk}/buy/")
    newer = cart(client, (towel.pk, 1))
    client.get(f"/orders/{newer.pk}/buy/")  # both in Checkout
    newer.refresh_from_db()
    checkout_cancel(order=newer, source="customer cancelled")  # the newer is the cart again

    first.refresh_from_db()
    checkout_cancel(order=first, source="customer cancelled")

    [the_cart] = [order for order in open_orders() if order.visitor_token]
    assert the_cart.pk == first.pk
    assert lines_of(the_cart) == {"Mug": 1, "Towel": 1}
    newer.refresh_from_db()
    assert (newer.visitor_token, lines_of(newer)) == ("", {})
    assert PaymentAttempt.objects.filter(order=newer).count() == 1  # its history stays


@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_a_first_add_leaves_one_cart_with_everything(
    fake_stripe: FakeStripe,
) -> None:
    """The reopening order and a new cart's insert meet at the constraint, in either order."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are checked in the PostgreSQL pass (make test-postgres)")
    mug = ItemFactory.create(name="Mug")
    towel = ItemFactory.create(name="Towel")
    for _ in range(5):
        client = Client()
        first = cart(client, (mug.pk, 2))
        assert client.get(f"/orders/{first.pk}/buy/").status_code == 200
        first.refresh_from_db()
        go = threading.Barrier(2)

        def cancel(order: Order = first, go: threading.Barrier = go) -> None:
            try:
                go.wait()
                checkout_cancel(order=order, source="customer cancelled")
            finally:
                connection.close()

        def add(client: Client = client, go: threading.Barrier = go) -> None:
            try:
                go.wait()
                client.post(f"/item/{towel.pk}/add-to-order/", {"quantity": 1}, headers=JSON)
            finally:
                connection.close()

        threads = [threading.Thread(target=cancel), threading.Thread(target=add)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        [the_cart] = Order.objects.filter(visitor_token=first.visitor_token, status="open")
        assert the_cart.pk == first.pk
        assert lines_of(the_cart) == {"Mug": 2, "Towel": 1}
