"""POST /stripe/webhook/: signed events, each applied once, in whatever order they arrive."""

import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order, OrderStatusChange
from kassa.payments.models import PaymentAttempt, Refund, UnmatchedPayment, WebhookEvent
from tests.attempts import intent_of, session_of
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, encode, event, signature

URL = "/stripe/webhook/"


@pytest.fixture
def webhooks(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    return fake_stripe


def deliver(evt: dict[str, Any], *, secret: str = WEBHOOK_SECRET, **kwargs: Any) -> Any:
    payload = encode(evt)
    return Client().post(
        URL,
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload, secret=secret, **kwargs)},
    )


def pending_order(fake: FakeStripe, price: str = "12.50") -> tuple[Order, dict[str, Any]]:
    """An order whose Checkout Session was created (through the shop) and is still open."""
    client = Client()
    item = ItemFactory.create(price=Decimal(price))
    body = client.get(f"/buy/{item.pk}").json()
    return Order.objects.get(pk=body["order_id"]), fake.resources.checkout_sessions[body["id"]]


def paid_changes(order: Order) -> int:
    return OrderStatusChange.objects.filter(order=order, to_status=Order.Status.PAID).count()


pytestmark = pytest.mark.django_db


def test_checkout_completed_marks_the_order_paid(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks)
    completed = webhooks.resources.complete_checkout_session(session["id"])

    response = deliver(event("checkout.session.completed", completed))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_paid == 1250
    assert order.paid_at is not None
    assert intent_of(order) == completed["payment_intent"]
    record = WebhookEvent.objects.get()
    assert record.outcome == WebhookEvent.Outcome.PROCESSED
    assert record.type == "checkout.session.completed"


def test_a_redelivered_event_changes_nothing(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks)
    evt = event(
        "checkout.session.completed", webhooks.resources.complete_checkout_session(session["id"])
    )

    first = deliver(evt)
    again = deliver(evt)

    assert first.status_code == 200
    assert first.json() == {"received": True, "outcome": "processed"}
    assert again.status_code == 200
    assert again.json() == {"received": True, "outcome": "duplicate"}
    assert paid_changes(order) == 1
    assert WebhookEvent.objects.get().attempts == 1


def _tampered(evt: dict[str, Any]) -> tuple[bytes, str | None]:
    header = signature(encode(evt))
    evt["data"]["object"]["amount_total"] = 1  # changed after signing
    return encode(evt), header


# What an attacker or a misconfigured sender posts: (body, Stripe-Signature header or None).
REJECTED: dict[str, Callable[[dict[str, Any]], tuple[bytes, str | None]]] = {
    "missing signature": lambda evt: (encode(evt), None),
    "forged signature": lambda evt: (encode(evt), "t=1,v1=deadbeef"),
    "malformed signature": lambda evt: (encode(evt), "garbage"),
    "another account's secret": lambda evt: (
        encode(evt),
        signature(encode(evt), secret="whsec_someone_else"),
    ),
    "replayed from 10 minutes ago": lambda evt: (
        encode(evt),
        signature(encode(evt), timestamp=int(time.time()) - 600),
    ),
    "tampered payload": _tampered,
}


@pytest.mark.parametrize("case", REJECTED)
def test_an_event_stripe_did_not_sign_is_rejected(webhooks: FakeStripe, case: str) -> None:
    order, session = pending_order(webhooks)
    completed = webhooks.resources.complete_checkout_session(session["id"])
    body, header = REJECTED[case](event("checkout.session.completed", completed))
    headers = {} if header is None else {"Stripe-Signature": header}

    response = Client().post(URL, body, content_type="application/json", headers=headers)

    assert response.status_code == 400
    assert "error" in response.json()
    assert not WebhookEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_each_accounts_secret_is_accepted(webhooks: FakeStripe, settings: SettingsWrapper) -> None:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET, "whsec_eur_account"]
    order, session = pending_order(webhooks)
    evt = event(
        "checkout.session.completed", webhooks.resources.complete_checkout_session(session["id"])
    )
    assert deliver(evt, secret="whsec_eur_account").status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_without_a_webhook_secret_nothing_is_accepted(
    webhooks: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_WEBHOOK_SECRETS = []
    order, session = pending_order(webhooks)
    evt = event(
        "checkout.session.completed", webhooks.resources.complete_checkout_session(session["id"])
    )
    assert deliver(evt).status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_an_unknown_event_type_is_a_200_no_op(webhooks: FakeStripe) -> None:
    response = deliver(event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED


def test_the_webhook_only_answers_post() -> None:
    assert Client().get(URL).status_code == 405


def test_an_async_payment_is_paid_only_when_it_succeeds(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks)
    unpaid = dict(webhooks.resources.complete_checkout_session(session["id"], paid=False))

    assert deliver(event("checkout.session.completed", unpaid)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING

    paid = {**unpaid, "payment_status": "paid"}
    assert deliver(event("checkout.session.async_payment_succeeded", paid)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_a_failed_async_payment_reopens_the_cart(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks)
    unpaid = webhooks.resources.complete_checkout_session(session["id"], paid=False)
    deliver(event("checkout.session.completed", unpaid))
    deliver(event("checkout.session.async_payment_failed", unpaid))
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


def test_expired_session_reopens_the_order(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks)
    expired = {**session, "status": "expired", "url": None}
    assert deliver(event("checkout.session.expired", expired)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert session_of(order) == ""


def test_expired_after_completed_does_not_unpay(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks)
    completed = dict(webhooks.resources.complete_checkout_session(session["id"]))
    deliver(event("checkout.session.completed", completed))
    deliver(event("checkout.session.expired", {**completed, "status": "expired"}))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_old_sessions_expiry_leaves_the_current_checkout_alone(webhooks: FakeStripe) -> None:
    client = Client()
    item = ItemFactory.create()
    order_id = client.post(
        f"/item/{item.pk}/add-to-order/", headers={"Accept": "application/json"}
    ).json()["id"]
    # The first session lapses at Stripe, the customer starts paying again, and only then does
    # the first one's expiry arrive.
    old = client.get(f"/orders/{order_id}/buy/").json()["id"]
    webhooks.resources.checkout_sessions[old]["status"] = "expired"
    newer = client.get(f"/orders/{order_id}/buy/").json()["id"]
    assert newer != old

    deliver(event("checkout.session.expired", webhooks.resources.checkout_sessions[old]))

    order = Order.objects.get(pk=order_id)
    assert order.status == Order.Status.PENDING
    assert session_of(order) == newer


def test_payment_intent_succeeded_marks_the_order_paid(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks)
    completed = webhooks.resources.complete_checkout_session(session["id"])
    intent = webhooks.resources.payment_intents[completed["payment_intent"]]
    deliver(event("payment_intent.succeeded", intent))
    deliver(event("checkout.session.completed", completed))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert paid_changes(order) == 1


def test_a_second_payment_for_a_paid_order_is_kept_for_staff(
    webhooks: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    order, session = pending_order(webhooks)
    completed = webhooks.resources.complete_checkout_session(session["id"])
    deliver(event("checkout.session.completed", completed))
    own_intent = webhooks.resources.payment_intents[completed["payment_intent"]]
    deliver(event("payment_intent.succeeded", own_intent))  # the same payment, told twice
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert not UnmatchedPayment.objects.exists()

    # A second Checkout Session of the same order, paid in another tab before the first closed.
    second = webhooks.resources.outside_session(amount_total=1250, currency="usd")
    PaymentAttempt.objects.create(
        order=order,
        number=2,
        kind="checkout_session",
        stripe_id=second["id"],
        currency="usd",
        amount=second["amount_total"],
        state="closed",
    )
    paid_again = webhooks.resources.complete_checkout_session(second["id"])
    assert deliver(event("checkout.session.completed", paid_again)).status_code == 200
    assert deliver(event("checkout.session.completed", paid_again)).status_code == 200

    order.refresh_from_db()
    assert order.amount_paid == 1250
    assert paid_changes(order) == 1
    [kept] = UnmatchedPayment.objects.all()
    assert kept.attempt is not None
    assert (kept.reason, kept.stripe_id, kept.amount, kept.attempt.number) == (
        "already_paid",
        second["id"],
        1250,
        2,
    )
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == [f"unmatched payment {second['id']} (already_paid): 1250 usd, claims order ''"]


def test_payment_intent_failed_changes_nothing(webhooks: FakeStripe) -> None:
    order, _ = pending_order(webhooks)
    failed = {
        "id": "pi_x",
        "object": "payment_intent",
        "status": "requires_payment_method",
        "metadata": {"order_id": str(order.pk)},
        "last_payment_error": {"code": "card_declined"},
    }
    assert deliver(event("payment_intent.payment_failed", failed)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def _paid_order(webhooks: FakeStripe) -> tuple[Order, dict[str, Any]]:
    order, session = pending_order(webhooks, price="20.00")
    completed = webhooks.resources.complete_checkout_session(session["id"])
    deliver(event("checkout.session.completed", completed))
    intent = webhooks.resources.payment_intents[completed["payment_intent"]]
    return order, webhooks.resources.charges[intent["latest_charge"]]


def test_refunds_partial_then_full(webhooks: FakeStripe) -> None:
    order, charge = _paid_order(webhooks)
    intent_id = charge["payment_intent"]

    # Refunds made in Stripe's Dashboard: the charge's event names no refund, so the shop
    # reads the payment's refunds from Stripe.
    webhooks.resources.refund(intent_id, amount=500)
    partial = deliver(event("charge.refunded", charge))
    order.refresh_from_db()
    assert partial.status_code == 200
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 500)
    assert webhooks.requests_to("GET", "/v1/refunds")[0].params["payment_intent"] == intent_id

    webhooks.resources.refund(intent_id, amount=1500)
    deliver(event("charge.refunded", charge))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 2000)
    assert order.refunded_at is not None
    assert {r.requested_by for r in Refund.objects.filter(order=order)} == {"Stripe"}

    # The partial refund's event, redelivered late under a new id, changes nothing.
    deliver(event("charge.refunded", charge))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 2000)
    assert Refund.objects.filter(order=order).count() == 2


def test_a_refund_before_its_payment_is_known_fails_and_is_retried(webhooks: FakeStripe) -> None:
    order, session = pending_order(webhooks, price="20.00")
    completed = webhooks.resources.complete_checkout_session(session["id"])
    intent = webhooks.resources.payment_intents[completed["payment_intent"]]
    charge = webhooks.resources.charges[intent["latest_charge"]]
    webhooks.resources.refund(intent["id"])
    refunded = event("charge.refunded", charge)

    first = deliver(refunded)

    assert first.status_code == 500
    assert "Traceback" not in first.text
    record = WebhookEvent.objects.get(event_id=refunded["id"])
    assert record.outcome == WebhookEvent.Outcome.FAILED
    assert "No order is paid by" in record.error

    deliver(event("checkout.session.completed", completed))
    retried = deliver(refunded)  # Stripe's retry of the same event

    assert retried.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    record.refresh_from_db()
    assert (record.outcome, record.attempts, record.error) == (
        WebhookEvent.Outcome.PROCESSED,
        2,
        "",
    )


def test_a_completed_event_for_an_unknown_order_is_processed_without_change(
    webhooks: FakeStripe,
) -> None:
    session = {
        "id": "cs_test_elsewhere",
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": 100,
        "metadata": {},
    }
    assert deliver(event("checkout.session.completed", session)).status_code == 200
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_fulfil_once(webhooks: FakeStripe) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locking is checked in the PostgreSQL pass (make test-postgres)")
    order, session = pending_order(webhooks)
    payload = encode(
        event(
            "checkout.session.completed",
            webhooks.resources.complete_checkout_session(session["id"]),
        )
    )
    header = signature(payload)
    statuses: list[int] = []
    start = threading.Barrier(4)

    def deliver_once() -> None:
        try:
            start.wait()
            response = Client().post(
                URL, payload, content_type="application/json", headers={"Stripe-Signature": header}
            )
            statuses.append(response.status_code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200, 200, 200]
    assert paid_changes(order) == 1
    record = WebhookEvent.objects.get()
    assert record.attempts == 1
    assert json.loads(json.dumps(record.payload))["type"] == "checkout.session.completed"


def test_a_session_the_shop_did_not_make_never_pays_an_order(webhooks: FakeStripe) -> None:
    """A Payment Link on the same account takes ?client_reference_id= from its URL: a customer
    could name an open cart and pay 0.01 EUR for it. Kept for staff, never trusted."""
    cart, _ = pending_order(webhooks, price="43.50")
    forged = webhooks.resources.outside_session(
        amount_total=1, currency="eur", metadata={}, client_reference_id=str(cart.pk)
    )
    completed = webhooks.resources.complete_checkout_session(forged["id"])

    assert deliver(event("checkout.session.completed", completed)).status_code == 200
    assert deliver(event("checkout.session.completed", completed)).status_code == 200

    cart.refresh_from_db()
    assert (cart.status, cart.amount_paid) == (Order.Status.PENDING, None)
    [kept] = UnmatchedPayment.objects.all()
    assert (kept.reason, kept.stripe_id, kept.amount, kept.currency, kept.attempt) == (
        "unknown_object",
        forged["id"],
        1,
        "eur",
        None,
    )
    assert kept.claimed_order == str(cart.pk)  # shown to staff, never trusted


def test_a_payment_intent_naming_an_order_never_pays_it(webhooks: FakeStripe) -> None:
    cart, _ = pending_order(webhooks, price="43.50")
    stranger = {
        "id": "pi_made_elsewhere",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 5000,
        "amount_received": 5000,
        "currency": "gbp",
        "metadata": {"order_id": str(cart.pk)},
    }

    assert deliver(event("payment_intent.succeeded", stranger)).status_code == 200

    cart.refresh_from_db()
    assert cart.status == Order.Status.PENDING
    [kept] = UnmatchedPayment.objects.all()
    assert (kept.reason, kept.claimed_order, kept.amount) == ("unknown_object", str(cart.pk), 5000)


@pytest.mark.parametrize(
    ("amount", "currency"), [(1, "usd"), (1250, "eur"), (1249, "usd")], ids=str
)
def test_our_own_session_paid_for_another_amount_never_pays_its_order(
    webhooks: FakeStripe, amount: int, currency: str
) -> None:
    order, session = pending_order(webhooks, price="12.50")
    completed = webhooks.resources.complete_checkout_session(session["id"])
    altered = {**completed, "amount_total": amount, "currency": currency}

    assert deliver(event("checkout.session.completed", altered)).status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    [kept] = UnmatchedPayment.objects.all()
    assert kept.attempt is not None
    assert (kept.reason, kept.attempt.order_id) == ("amount_differs", order.pk)
    # The true report, for what the attempt asked, still pays the order.
    assert deliver(event("checkout.session.completed", completed)).status_code == 200
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (Order.Status.PAID, 1250)


def test_checkout_reports_its_own_payment_intent_first_and_it_pays_once(
    webhooks: FakeStripe,
) -> None:
    """Stripe sends payment_intent.succeeded for Checkout's own PaymentIntent too, in either
    order with checkout.session.completed: it is the session's payment, not an unknown one."""
    order, session = pending_order(webhooks)
    completed = webhooks.resources.complete_checkout_session(session["id"])
    own_intent = webhooks.resources.payment_intents[completed["payment_intent"]]

    assert deliver(event("payment_intent.succeeded", own_intent)).status_code == 200
    assert deliver(event("checkout.session.completed", completed)).status_code == 200

    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (Order.Status.PAID, 1250)
    assert paid_changes(order) == 1
    assert not UnmatchedPayment.objects.exists()
    assert intent_of(order) == own_intent["id"]
