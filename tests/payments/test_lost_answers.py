"""An attempt whose Stripe answer was lost (the database failed between Stripe's answer and
recording it) is found by reconciliation within minutes: its Checkout Session, if Stripe made
one, is expired (or, paid after all, recorded) and the order reopens."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError
from django.db.models import F
from django.test import Client

from kassa.orders.models import Order
from kassa.payments import attempts
from kassa.payments.models import PaymentAttempt
from kassa.payments.reconcile import reconcile_pending
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import cart

pytestmark = pytest.mark.django_db
State = PaymentAttempt.State


def _lose_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def database_fails(**kwargs: object) -> bool:
        raise DatabaseError("the database went away")

    monkeypatch.setattr(attempts, "attempt_attach", database_fails)


def checkout_whose_answer_is_lost(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch, *, minutes_ago: float
) -> Order:
    client = Client(raise_request_exception=False)
    order = cart(client, (ItemFactory.create().pk, 2))
    with monkeypatch.context() as patch:
        _lose_the_answer(patch)
        assert client.get(f"/orders/{order.pk}/buy/").status_code == 500
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    [attempt] = PaymentAttempt.objects.filter(order=order)
    assert (attempt.state, attempt.stripe_id) == (State.OPEN, "")
    # As if it all happened `minutes_ago`, at Stripe too.
    ago = timedelta(minutes=minutes_ago)
    PaymentAttempt.objects.filter(pk=attempt.pk).update(opened_at=F("opened_at") - ago)
    for session in fake_stripe.resources.checkout_sessions.values():
        session["created"] -= int(ago.total_seconds())
    return order


def the_session(fake_stripe: FakeStripe) -> dict[str, Any]:
    return next(iter(fake_stripe.resources.checkout_sessions.values()))


def test_a_lost_session_is_expired_and_the_order_reopened_within_minutes(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = checkout_whose_answer_is_lost(fake_stripe, monkeypatch, minutes_ago=3)
    assert the_session(fake_stripe)["status"] == "open"

    report = reconcile_pending(per_second=0)

    assert report.reopened == [order.pk]
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert the_session(fake_stripe)["status"] == "expired"
    attempt = PaymentAttempt.objects.get(order=order)
    assert attempt.state == State.FAILED
    assert "1 lost checkout(s) closed" in attempt.note


def test_a_lost_session_paid_after_all_is_recorded(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = checkout_whose_answer_is_lost(fake_stripe, monkeypatch, minutes_ago=3)
    fake_stripe.resources.complete_checkout_session(str(the_session(fake_stripe)["id"]))

    report = reconcile_pending(per_second=0)

    assert report.paid == [order.pk]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert PaymentAttempt.objects.get(order=order).state == State.PAID


def test_an_attempt_stripe_never_made_closes_too(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = checkout_whose_answer_is_lost(fake_stripe, monkeypatch, minutes_ago=3)
    fake_stripe.resources.checkout_sessions.clear()

    assert reconcile_pending(per_second=0).reopened == [order.pk]


def test_sessions_of_other_orders_and_other_times_are_left_alone(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = checkout_whose_answer_is_lost(fake_stripe, monkeypatch, minutes_ago=3)
    lost = str(the_session(fake_stripe)["id"])
    other = cart(Client(), (ItemFactory.create().pk, 1))
    Client().get(f"/orders/{other.pk}/buy/")  # another visitor's, open
    # Many sessions made meanwhile: the lost one is on a later page of Stripe's list.
    when = the_session(fake_stripe)["created"]
    for _ in range(150):
        fake_stripe.resources.outside_session(amount_total=100, currency="usd")["created"] = when

    reconcile_pending(per_second=0)

    assert len(fake_stripe.requests_to("GET", "/v1/checkout/sessions")) == 2  # two pages
    statuses = {s["id"]: s["status"] for s in fake_stripe.resources.checkout_sessions.values()}
    assert statuses.pop(lost) == "expired"
    assert set(statuses.values()) == {"open"}
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


def test_an_attempt_still_being_made_is_left_to_its_request(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = checkout_whose_answer_is_lost(fake_stripe, monkeypatch, minutes_ago=0.5)

    report = reconcile_pending(per_second=0)

    assert report.checked == 0
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert the_session(fake_stripe)["status"] == "open"
