"""GET /buy/<id> is safe to repeat: a reload, a second tab or a link from another site answers
the visitor's open Checkout Session of that item instead of making another order and session."""

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from kassa.orders.models import Order
from tests.factories import ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import cart
from tests.storefront.test_query_counts import visitor

pytestmark = pytest.mark.django_db
CREATE = ("POST", "/v1/checkout/sessions")


def sessions_made(fake_stripe: FakeStripe) -> int:
    return len(fake_stripe.requests_to(*CREATE))


def test_buying_again_answers_the_open_session(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()

    first = client.get(f"/buy/{item.pk}").json()
    again = client.get(f"/item/{item.pk}/buy/").json()

    assert again == first
    assert Order.objects.count() == 1
    assert sessions_made(fake_stripe) == 1
    assert fake_stripe.resources.checkout_sessions[first["id"]]["status"] == "open"


def test_a_session_that_expired_makes_a_new_order(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    first = client.get(f"/buy/{item.pk}").json()
    fake_stripe.resources.checkout_sessions[first["id"]].update(status="expired", url=None)

    again = client.get(f"/buy/{item.pk}").json()

    assert again["id"] != first["id"]
    assert again["order_id"] != first["order_id"]
    assert sessions_made(fake_stripe) == 2


def test_a_paid_buy_is_recorded_and_the_next_click_is_a_new_purchase(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    first = client.get(f"/buy/{item.pk}").json()
    fake_stripe.resources.complete_checkout_session(first["id"])

    again = client.get(f"/buy/{item.pk}")

    assert again.status_code == 200
    assert again.json()["order_id"] != first["order_id"]
    assert Order.objects.get(pk=first["order_id"]).status == Order.Status.PAID


def test_a_price_change_makes_a_new_order_at_the_new_price(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(price=Decimal("10.00"))
    first = client.get(f"/buy/{item.pk}").json()
    item.price = Decimal("12.00")
    item.save()

    again = client.get(f"/buy/{item.pk}").json()

    assert again["order_id"] != first["order_id"]
    assert fake_stripe.resources.checkout_sessions[again["id"]]["amount_total"] == 1200


def test_another_visitor_gets_their_own(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    mine = Client().get(f"/buy/{item.pk}").json()
    theirs = Client().get(f"/buy/{item.pk}").json()
    assert mine["order_id"] != theirs["order_id"]


def test_a_cart_of_that_item_alone_is_not_taken_for_a_buy_with_a_tax(
    client: Client, fake_stripe: FakeStripe
) -> None:
    """Only an order that charges what Buy now charges is answered again."""
    item = ItemFactory.create()
    order = cart(client, (item.pk, 1))
    order.tax = TaxFactory.create()
    order.save()
    assert client.get(f"/orders/{order.pk}/buy/").status_code == 200

    bought = client.get(f"/buy/{item.pk}").json()

    assert bought["order_id"] != order.pk


@pytest.mark.django_db(transaction=True)
def test_eight_tabs_at_once_are_each_handed_a_session_still_open(
    fake_stripe: FakeStripe,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests are checked in the PostgreSQL pass (make test-postgres)")
    client = Client()
    visitor(client)
    item = ItemFactory.create()
    fake_stripe.set_latency(0.2)  # the tabs are at Stripe together
    answers: list[Any] = []
    go = threading.Barrier(8)

    def tab() -> None:
        try:
            go.wait()
            answers.append(client.get(f"/buy/{item.pk}"))
        finally:
            close_old_connections()
            connection.close()

    try:
        for _round in range(2):  # the second round finds the first's sessions
            answers.clear()
            threads = [threading.Thread(target=tab) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert [a.status_code for a in answers] == [200] * 8
            sessions = fake_stripe.resources.checkout_sessions
            handed = [a.json() for a in answers]
            assert all(sessions[h["id"]]["status"] == "open" for h in handed)
            assert all(sessions[h["id"]]["url"] == h["url"] for h in handed)
            open_per_order = Counter(
                s["metadata"]["order_id"] for s in sessions.values() if s["status"] == "open"
            )
            assert max(open_per_order.values()) == 1
    finally:
        fake_stripe.set_latency(0)
    made = sessions_made(fake_stripe)
    again = client.get(f"/buy/{item.pk}").json()
    assert sessions_made(fake_stripe) == made  # a later click answers one of them
    assert fake_stripe.resources.checkout_sessions[again["id"]]["status"] == "open"
