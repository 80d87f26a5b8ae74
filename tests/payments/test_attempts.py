"""Payment attempts: at most one payable per order, whatever races, and an honest history."""

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from kassa.orders.models import Order
from kassa.payments import attempts
from kassa.payments.models import PaymentAttempt, UnmatchedPayment
from tests.factories import ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import JSON, cart
from tests.payments.test_payment_intents import intent_id, start
from tests.payments.test_webhooks import deliver, event
from tests.stripe_events import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
State = PaymentAttempt.State


def _payable(fake: FakeStripe) -> list[str]:
    """Every Stripe object that a customer could still pay."""
    sessions = [s["id"] for s in fake.resources.checkout_sessions.values() if s["status"] == "open"]
    intents = [
        i["id"]
        for i in fake.resources.payment_intents.values()
        if i["status"] not in ("canceled", "succeeded")
    ]
    return sessions + intents


def test_an_attempt_superseded_while_being_made_is_closed_and_keeps_its_record() -> None:
    order = Order.objects.create(currency="usd")
    order.lines.create(item=ItemFactory.create(), quantity=1, unit_price=Decimal("12.34"))

    first = attempts.attempt_begin(order=order, kind="checkout_session", account="a").attempt
    second = attempts.attempt_begin(order=order, kind="checkout_session", account="a")

    first.refresh_from_db()
    assert (first.state, first.note) == (State.CLOSED, "superseded while being made")
    assert second.earlier == []  # nothing at Stripe yet to close: its maker closes it
    assert not attempts.attempt_attach(attempt=first, stripe_id="cs_first", amount=1234)
    first.refresh_from_db()
    assert (first.state, first.stripe_id, first.amount) == (State.CLOSED, "cs_first", 1234)
    assert attempts.attempt_attach(attempt=second.attempt, stripe_id="cs_second", amount=1234)
    assert [a.number for a in PaymentAttempt.objects.filter(state=State.OPEN)] == [2]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "paths",
    [("buy", "buy"), ("buy", "payment-intent"), ("payment-intent", "payment-intent")],
    ids="+".join,
)
def test_two_tabs_starting_at_once_leave_one_payable_attempt(
    fake_stripe: FakeStripe, paths: tuple[str, str]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locking is checked in the PostgreSQL pass (make test-postgres)")
    client = Client()
    order = cart(client, (ItemFactory.create(price=Decimal("20.00")).pk, 1))
    fake_stripe.set_latency(0.3)  # both requests are at Stripe at the same time
    answers: dict[str, int] = {}
    go = threading.Barrier(2)

    def open_tab(path: str, tab: str) -> None:
        try:
            go.wait()
            if path == "buy":
                response = client.get(f"/orders/{order.pk}/buy/")
            else:
                response = client.post(f"/orders/{order.pk}/payment-intent/", headers=JSON)
            answers[tab] = response.status_code
        finally:
            close_old_connections()
            connection.close()

    tabs = [threading.Thread(target=open_tab, args=(path, str(n))) for n, path in enumerate(paths)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()
    fake_stripe.set_latency(0)

    assert sorted(answers.values()) == [200, 409]
    [payable] = _payable(fake_stripe)
    [current] = PaymentAttempt.objects.filter(order=order, state=State.OPEN)
    assert current.stripe_id == payable
    assert PaymentAttempt.objects.filter(order=order).count() == 2
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_a_kept_intent_paid_at_its_new_amount_pays_through_the_newer_attempt(
    client: Client, fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    order = cart(client, (ItemFactory.create(price=Decimal("10.00")).pk, 1))
    first = intent_id(start(client, order).json()["client_secret"])
    order.tax = TaxFactory.create(percentage=Decimal("10"))  # staff add a tax meanwhile
    order.save()
    second = start(client, order).json()
    assert intent_id(second["client_secret"]) == first

    paid = fake_stripe.resources.succeed_payment_intent(first)
    assert deliver(event("payment_intent.succeeded", paid)).status_code == 200

    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (Order.Status.PAID, 1100)
    history = list(order.payment_attempts.values_list("number", "stripe_id", "amount", "state"))
    assert history == [(1, first, 1000, State.CLOSED), (2, first, 1100, State.PAID)]
    assert not UnmatchedPayment.objects.exists()


def test_reconciliation_fails_an_attempt_that_was_never_made(fake_stripe: FakeStripe) -> None:
    """A request that died between beginning an attempt and Stripe's answer leaves it open
    with no Stripe id: reconciliation gives the customer the cart back."""
    order = Order.objects.create(currency="usd")
    order.lines.create(item=ItemFactory.create(), quantity=1, unit_price=Decimal("12.34"))
    attempt = attempts.attempt_begin(order=order, kind="checkout_session", account="a").attempt
    PaymentAttempt.objects.filter(pk=attempt.pk).update(
        opened_at=timezone.now() - timedelta(hours=1)
    )

    call_command("reconcile_payments")

    attempt.refresh_from_db()
    order.refresh_from_db()
    assert (attempt.state, order.status) == (State.FAILED, Order.Status.OPEN)
    # It only looked for a session Stripe might have made meanwhile
    # (tests/payments/test_lost_answers.py).
    assert [(r.method, r.path) for r in fake_stripe.requests] == [("GET", "/v1/checkout/sessions")]


def test_staff_see_an_orders_attempts_and_the_payments_that_matched_none(
    admin_client: Client, fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    body = Client().get(f"/buy/{ItemFactory.create(price=Decimal('14.50')).pk}").json()
    stranger = fake_stripe.resources.outside_session(amount_total=999, currency="usd")
    deliver(
        event(
            "checkout.session.completed",
            fake_stripe.resources.complete_checkout_session(stranger["id"]),
        )
    )

    order_page = admin_client.get(f"/admin/orders/order/{body['order_id']}/change/").text
    unmatched = admin_client.get("/admin/payments/unmatchedpayment/").text

    assert "Payment attempts" in order_page
    assert body["id"] in order_page
    assert "$14.50" in order_page
    assert stranger["id"] in unmatched
    assert "$9.99" in unmatched
    assert "not made by the shop" in unmatched


def test_staff_find_the_orders_paid_twice(
    admin_client: Client, fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    once, twice = (
        Client().get(f"/buy/{ItemFactory.create(price=Decimal('5.00')).pk}").json()
        for _ in range(2)
    )
    for body in (once, twice):
        paid = fake_stripe.resources.complete_checkout_session(body["id"])
        deliver(event("checkout.session.completed", paid))
    # The second order's customer paid again, through a session of it made in another tab.
    again = fake_stripe.resources.outside_session(amount_total=500, currency="usd")
    PaymentAttempt.objects.create(
        order_id=twice["order_id"],
        number=2,
        kind="checkout_session",
        stripe_id=again["id"],
        currency="usd",
        amount=500,
        state=State.CLOSED,
    )
    deliver(
        event(
            "checkout.session.completed",
            fake_stripe.resources.complete_checkout_session(again["id"]),
        )
    )

    flagged = admin_client.get("/admin/orders/order/?paid_twice=unsettled").text
    UnmatchedPayment.objects.update(resolved=True)  # staff refunded it
    settled = admin_client.get("/admin/orders/order/?paid_twice=unsettled").text

    assert f"/admin/orders/order/{twice['order_id']}/change/" in flagged
    assert f"/admin/orders/order/{once['order_id']}/change/" not in flagged
    assert f"/admin/orders/order/{twice['order_id']}/change/" not in settled
