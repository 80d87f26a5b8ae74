"""Input that once reached a 500 or the database as it came: NULs, forged dates, odd events."""

import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order
from kassa.payments import attempts
from kassa.payments.models import PaymentAttempt, UnmatchedPayment, WebhookEvent
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.html import csrf_token_in
from tests.payments.test_order_checkout import cart
from tests.payments.test_webhooks import pending_order
from tests.stripe_events import WEBHOOK_SECRET, encode, event, signature

pytestmark = pytest.mark.django_db
URL = "/stripe/webhook/"


@pytest.fixture
def webhooks(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    return fake_stripe


def post_signed(payload: bytes, **kwargs: Any) -> Any:
    return Client().post(
        URL,
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload, **kwargs)},
    )


@pytest.mark.parametrize("name", ["session_id", "payment_intent"])
def test_a_nul_in_the_return_url_is_an_ordinary_page(fake_stripe: FakeStripe, name: str) -> None:
    """PostgreSQL refuses a NUL in a string: looked up as it came, it was a 500."""
    page = Client().get(f"/checkout/success/?{name}=cs_%00x")
    assert page.status_code == 200
    assert fake_stripe.requests == []


def test_a_signature_dated_in_the_future_is_refused(webhooks: FakeStripe) -> None:
    _, session = pending_order(webhooks)
    completed = webhooks.resources.complete_checkout_session(session["id"])
    payload = encode(event("checkout.session.completed", completed))

    ahead = post_signed(payload, timestamp=int(time.time()) + 600)
    on_time = post_signed(payload)

    assert ahead.status_code == 400
    assert "future" in ahead.json()["error"]
    assert on_time.status_code == 200
    assert WebhookEvent.objects.count() == 1


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    "payload",
    [
        encode({**event("checkout.session.completed", {}), "type": "x" * 101}),
        encode({**event("checkout.session.completed", {}), "id": "evt_" + "x" * 252}),
        encode({k: v for k, v in event("checkout.session.completed", {}).items() if k != "id"}),
        encode({**event("checkout.session.completed", {}), "id": "evt_\x00"}),
        encode({**event("checkout.session.completed", {}), "data": {"object": "a string"}}),
        (
            '{"id": "evt_deep", "type": "checkout.session.completed", "data": ' + _deep(100_000)
        ).encode()
        + b"}",
        b"[1, 2]",
        b'"evt_a_string"',
        b"42",
        b"null",
    ],
    ids=[
        "long type",
        "long id",
        "no id",
        "nul in id",
        "object not an object",
        "deep json",
        "a list",
        "a string",
        "a number",
        "null",
    ],
)
def test_a_signed_but_malformed_event_is_a_400_and_stops_the_retries(
    webhooks: FakeStripe, payload: bytes
) -> None:
    response = post_signed(payload)

    assert response.status_code == 400
    assert set(response.json()) == {"error", "code"}
    assert not WebhookEvent.objects.exists()


def test_an_object_with_a_nul_is_refused_and_pays_nothing(webhooks: FakeStripe) -> None:
    """JSON writes the NUL as \\u0000, which PostgreSQL cannot keep in the event's record."""
    order, session = pending_order(webhooks)
    completed = webhooks.resources.complete_checkout_session(session["id"])
    forged = {**completed, "id": session["id"] + "\x00"}

    response = post_signed(encode(event("checkout.session.completed", forged)))

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not UnmatchedPayment.objects.exists()


def _forgotten_by_stripe(client: Client, fake: FakeStripe) -> tuple[Order, str]:
    """A cart in checkout whose session Stripe no longer knows (its account's keys changed)."""
    order = cart(client, (ItemFactory.create().pk, 1))
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    del fake.resources.checkout_sessions[session_id]
    return order, session_id


def test_a_session_stripe_forgot_does_not_keep_its_order_pending(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order, _ = _forgotten_by_stripe(client, fake_stripe)
    token = csrf_token_in(client.get(f"/orders/{order.pk}/").text)

    client.post(f"/orders/{order.pk}/reopen/", {"csrfmiddlewaretoken": token})

    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert not PaymentAttempt.objects.filter(state=PaymentAttempt.State.OPEN).exists()


def test_buying_again_past_a_session_stripe_forgot_starts_a_new_one(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order, forgotten = _forgotten_by_stripe(client, fake_stripe)

    response = client.get(f"/orders/{order.pk}/buy/")

    assert response.status_code == 200
    assert response.json()["id"] != forgotten
    assert response.json()["id"] in fake_stripe.resources.checkout_sessions


def test_reconciliation_closes_a_session_stripe_forgot(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order, _ = _forgotten_by_stripe(client, fake_stripe)
    PaymentAttempt.objects.update(opened_at=timezone.now() - timedelta(hours=1))

    call_command("reconcile_payments")

    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert PaymentAttempt.objects.get().note == "gone from Stripe"


def test_what_belongs_to_one_visitor_is_never_kept_by_a_cache(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    order = cart(client, (item.pk, 1))
    answers = [
        client.get(f"/buy/{item.pk}"),
        client.get("/orders/"),
        client.get(f"/orders/{order.pk}/"),
        client.get(f"/orders/{order.pk}/", headers={"Accept": "application/json"}),
        client.get(f"/orders/{order.pk}/pay/"),
        client.get(f"/orders/{order.pk}/buy/"),
    ]
    for answer in answers:
        assert answer.status_code == 200
        directives = {d.strip() for d in answer["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, answer.request["PATH_INFO"]


def test_reconciliation_works_in_bounded_batches_oldest_first(fake_stripe: FakeStripe) -> None:
    """One run after a load test made 28.9k Stripe calls in 20 s: a run is now bounded. These
    attempts were never made at Stripe (their request died), so each one checked is failed."""
    ages = {}
    for minutes in (50, 40, 30):
        order = Order.objects.create(currency="usd")
        order.lines.create(item=ItemFactory.create(), quantity=1, unit_price="12.34")
        attempt = attempts.attempt_begin(order=order, kind="checkout_session", account="a").attempt
        PaymentAttempt.objects.filter(pk=attempt.pk).update(
            opened_at=timezone.now() - timedelta(minutes=minutes)
        )
        ages[minutes] = order

    call_command("reconcile_payments", "--limit", "2", "--per-second", "1000")

    statuses = {minutes: Order.objects.get(pk=o.pk).status for minutes, o in ages.items()}
    assert statuses == {50: "open", 40: "open", 30: "pending"}  # the youngest waits its turn
