"""Refunds through the one refund service: the units that came back and their amount, and a
refund followed through its states at Stripe (pending, requires_action, succeeded, failed
later), by the real stripe-python against the fake Stripe and signed webhook events."""

import threading
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import close_old_connections, connection
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Item
from kassa.notifications.models import Mail
from kassa.orders.models import Order, OrderLine
from kassa.payments.errors import RefundFailed
from kassa.payments.models import Refund
from kassa.payments.refunds import (
    RefundOutdated,
    ReturnedLine,
    refund_order,
    refunds_counted,
)
from tests.factories import DiscountFactory, ItemFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}


@pytest.fixture
def webhooks(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_STAFF_EMAILS = ["staff@kassa.example"]
    return fake_stripe


def deliver(evt: dict[str, Any]) -> None:
    assert post_event(evt).status_code == 200


def paid(fake: FakeStripe, *lines: tuple[Item, int], discount: bool = False) -> Order:
    """An order of `lines`, paid through Checkout (its event delivered)."""
    client = Client()
    for item, quantity in lines:
        added = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": quantity}, headers=JSON)
        assert added.status_code in (200, 201), added.content
    order = Order.objects.get(status=Order.Status.OPEN)
    if discount:
        Order.objects.filter(pk=order.pk).update(discount=DiscountFactory.create())
    session_id = client.get(f"/orders/{order.pk}/buy/", headers=JSON).json()["id"]
    deliver(
        event("checkout.session.completed", fake.resources.complete_checkout_session(session_id))
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def line_of(order: Order, item: Item) -> OrderLine:
    return order.lines.get(item=item)


def stock_of(item: Item) -> int | None:
    item.refresh_from_db()
    return item.stock


def refund_event(fake: FakeStripe, type_: str, refund_id: str) -> dict[str, Any]:
    return event(type_, dict(fake.resources.refunds[refund_id]))


# --- what came back, and its amount -------------------------------------------------------------


def test_returned_units_are_refunded_what_they_were_paid_with_the_discount(
    webhooks: FakeStripe,
) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    brush = ItemFactory.create(price=Decimal("5.00"), stock=10)
    order = paid(webhooks, (soap, 2), (brush, 1), discount=True)  # 25.00 less 10%: 22.50
    assert order.amount_paid == 2250

    refund = refund_order(
        order_id=order.pk,
        requested_by="test",
        returned=[ReturnedLine(line_id=line_of(order, soap).pk, quantity=1)],
    )

    assert (refund.amount, refund.state) == (900, Refund.State.SUCCEEDED)  # 10.00 less 10%
    assert stock_of(soap) == 9  # 10, two sold, one back
    assert stock_of(brush) == 9
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 900)
    [returned] = refund.lines.all()
    assert (returned.line.item_id, returned.quantity, returned.restocked) == (soap.pk, 1, True)


def test_an_amount_staff_type_is_refunded_for_the_units_that_came_back(
    webhooks: FakeStripe,
) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))

    refund = refund_order(
        order_id=order.pk,
        requested_by="test",
        returned=[ReturnedLine(line_id=line_of(order, soap).pk, quantity=2)],
        amount=1500,  # a restocking fee kept
    )

    assert refund.amount == 1500
    assert stock_of(soap) == 10
    [call] = webhooks.requests_to("POST", "/v1/refunds")
    assert call.params["amount"] == "1500"


@pytest.mark.parametrize(
    ("quantity", "other_order", "message"),
    [
        (3, False, "At most 2 of a line"),
        (-1, False, "cannot be negative"),
        (1, True, "not one of the order's"),
    ],
)
def test_returned_units_the_order_cannot_have_are_refused_before_stripe(
    webhooks: FakeStripe, quantity: int, other_order: bool, message: str
) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    line = line_of(order, soap)
    if other_order:
        line = paid(webhooks, (ItemFactory.create(price=Decimal("1.00")), 1)).lines.get()

    with pytest.raises(RefundFailed, match=message):
        refund_order(
            order_id=order.pk,
            requested_by="test",
            returned=[ReturnedLine(line_id=line.pk, quantity=quantity)],
        )

    assert webhooks.requests_to("POST", "/v1/refunds") == []
    assert stock_of(soap) == 8
    assert not Refund.objects.exists()


def test_the_same_request_twice_makes_one_refund_and_a_stale_one_is_refused(
    webhooks: FakeStripe,
) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    line = line_of(order, soap)
    ask = partial(
        refund_order,
        order_id=order.pk,
        requested_by="test",
        returned=[ReturnedLine(line_id=line.pk, quantity=1)],
        refunded_before=refunds_counted(order),
    )

    first = ask()
    double_click = ask()

    assert first.pk == double_click.pk
    assert len(webhooks.requests_to("POST", "/v1/refunds")) == 1
    assert stock_of(soap) == 9
    # Another refund asked from the page as it was before the first: refused, not doubled.
    with pytest.raises(RefundOutdated):
        ask(amount=300)
    assert len(webhooks.requests_to("POST", "/v1/refunds")) == 1


# --- states at Stripe ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["pending", "requires_action"])
def test_a_refund_stripe_has_not_made_yet_is_not_counted_as_refunded(
    webhooks: FakeStripe, status: str
) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    webhooks.resources.refund_status = status

    refund = refund_order(order_id=order.pk, requested_by="test")

    assert refund.state == status
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PAID, 0)
    # It counts against what is left, as Stripe counts it: no second refund of the same money.
    with pytest.raises(RefundFailed, match="already refunded"):
        refund_order(order_id=order.pk, requested_by="test", amount=100)

    webhooks.resources.settle_refund(refund.stripe_id, "succeeded")
    deliver(refund_event(webhooks, "refund.updated", refund.stripe_id))

    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 2000)
    refund.refresh_from_db()
    assert refund.state == Refund.State.SUCCEEDED
    assert Mail.objects.filter(key=f"refund:{order.pk}:2000").count() == 1


@pytest.mark.parametrize("type_", ["refund.failed", "charge.refund.updated"])
def test_a_refund_that_fails_after_it_succeeded_takes_the_order_back_and_tells_staff(
    webhooks: FakeStripe, type_: str
) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    first = refund_order(order_id=order.pk, requested_by="test", amount=500)
    second = refund_order(order_id=order.pk, requested_by="test", amount=700)
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 1200)

    webhooks.resources.settle_refund(second.stripe_id, "failed")
    failed = refund_event(webhooks, type_, second.stripe_id)
    deliver(failed)
    deliver(failed)  # redelivered
    # A late report of its earlier state changes nothing.
    deliver(event("refund.updated", {**failed["data"]["object"], "status": "succeeded"}))

    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 500)
    second.refresh_from_db()
    assert (second.state, second.failure_reason) == (
        Refund.State.FAILED,
        "expired_or_canceled_card",
    )
    [notice] = Mail.objects.filter(key=f"notice:refund-failed:{second.stripe_id}")
    assert f"order #{order.pk}" in notice.context["subject"]
    # What failed can be refunded again.
    third = refund_order(order_id=order.pk, requested_by="test", amount=1500)
    assert third.state == Refund.State.SUCCEEDED

    webhooks.resources.settle_refund(first.stripe_id, "failed")
    deliver(refund_event(webhooks, "refund.failed", first.stripe_id))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 1500)


def test_a_whole_refund_that_fails_later_leaves_the_order_paid(webhooks: FakeStripe) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 1))
    refund = refund_order(order_id=order.pk, requested_by="test")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED

    webhooks.resources.settle_refund(refund.stripe_id, "failed")
    deliver(refund_event(webhooks, "refund.failed", refund.stripe_id))

    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PAID, 0)
    history = list(order.status_changes.values_list("to_status", flat=True))
    assert history[-2:] == [Order.Status.REFUNDED, Order.Status.PAID]


def test_a_refund_made_in_the_dashboard_is_recorded_from_its_event(webhooks: FakeStripe) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    intent_id = next(iter(webhooks.resources.payment_intents))
    made = webhooks.resources.refund(intent_id, amount=400, status="pending")

    deliver(event("refund.created", made))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PAID, 0)

    webhooks.resources.settle_refund(made["id"], "succeeded")
    deliver(refund_event(webhooks, "refund.updated", made["id"]))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 400)
    refund = Refund.objects.get(stripe_id=made["id"])
    assert (refund.requested_by, refund.amount) == ("Stripe", 400)
    assert stock_of(soap) == 8  # money only: nothing came back


def test_staff_see_a_pending_refund_and_a_failed_one_on_the_order(webhooks: FakeStripe) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    done = refund_order(order_id=order.pk, requested_by="test", amount=500)
    webhooks.resources.settle_refund(done.stripe_id, "failed")
    deliver(refund_event(webhooks, "refund.failed", done.stripe_id))
    webhooks.resources.refund_status = "pending"
    waiting = refund_order(order_id=order.pk, requested_by="test", amount=300)
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    staff = Client()
    staff.login(username="boss", password="pw-for-tests-only")

    page = staff.get(f"/admin/orders/order/{order.pk}/change/").text
    listing = staff.get("/admin/orders/order/?refunds=failed").text

    assert waiting.stripe_id in page
    assert done.stripe_id in page
    assert "expired_or_canceled_card" in page
    assert "pending" in page
    assert "failed" in page
    assert f"/admin/orders/order/{order.pk}/change/" in listing


# --- at once, on PostgreSQL ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_partial_refunds_add_up_at_stripe_and_on_the_order(
    webhooks: FakeStripe,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locking is checked in the PostgreSQL pass (make test-postgres)")
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    amounts = [100, 200, 300, 400, 500, 600]  # 21.00 asked of 20.00 paid: one must be refused
    start = threading.Barrier(len(amounts))
    outcomes: list[str] = []

    def refund(amount: int) -> None:
        try:
            start.wait()
            made = refund_order(order_id=order.pk, requested_by="test", amount=amount)
            outcomes.append(str(made.state))
        except RefundFailed:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=refund, args=(amount,)) for amount in amounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    at_stripe = sum(refund["amount"] for refund in webhooks.resources.refunds.values())
    order.refresh_from_db()
    assert outcomes.count("refused") >= 1
    assert at_stripe == order.amount_refunded <= 2000
    assert at_stripe == sum(Refund.objects.filter(order=order).values_list("amount", flat=True))
    assert len(webhooks.resources.refunds) == outcomes.count("succeeded")


def test_a_refund_stripe_refused_at_once_can_be_asked_again(webhooks: FakeStripe) -> None:
    soap = ItemFactory.create(price=Decimal("10.00"), stock=10)
    order = paid(webhooks, (soap, 2))
    line = line_of(order, soap)
    webhooks.resources.refund_status = "failed"
    ask = partial(
        refund_order,
        order_id=order.pk,
        requested_by="test",
        returned=[ReturnedLine(line_id=line.pk, quantity=1)],
        refunded_before=0,
    )

    refused = ask()
    assert refused.state == Refund.State.FAILED
    assert stock_of(soap) == 8  # nothing came back to stock for a refund not made

    webhooks.resources.refund_status = "succeeded"
    made = ask()

    assert made.pk != refused.pk
    assert made.state == Refund.State.SUCCEEDED
    assert stock_of(soap) == 9
    keys = [call.idempotency_key for call in webhooks.requests_to("POST", "/v1/refunds")]
    assert len(set(keys)) == 2
