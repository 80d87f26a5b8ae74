"""Catching up on missed webhooks: ask Stripe about attempts left open."""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from kassa.orders import lifecycle
from kassa.orders.models import Order, Reservation
from kassa.payments import attempts, gateway, intents
from kassa.payments.errors import PaymentError, StripeObjectMissing
from kassa.payments.fulfilment import fulfil_checkout_session, fulfil_payment_intent
from kassa.payments.models import PaymentAttempt

logger = logging.getLogger(__name__)
SOURCE = "reconciliation"


@dataclass
class Report:
    checked: int = 0
    paid: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def reconcile_pending(
    *,
    older_than: timedelta = timedelta(minutes=15),
    abandon_after: timedelta = timedelta(hours=24),
    limit: int = 200,
    per_second: float = 10.0,
) -> Report:
    """Fulfil attempts Stripe says are paid; close those Stripe closed, reopening their orders.

    Safe at any time and any number of times: it only applies what Stripe reports, through the
    same idempotent functions the webhook uses. Attempts younger than `older_than` are left to
    their webhooks. A PaymentIntent nobody has paid for `abandon_after` is cancelled, as Stripe
    itself expires an unpaid Checkout Session after a day; so is one whose order's stock
    reservation lapsed (CHECKOUT_RESERVATION_MINUTES, as a Checkout Session's expires_at), and
    the units go back on sale. Should its payment arrive all the same, it is recorded.

    A run checks at most `limit` attempts, oldest first, and asks Stripe at most `per_second`
    times a second: a backlog (a load test, a long webhook outage) is worked off over several
    runs without a burst against the account's rate limit, which checkouts share.
    """
    report = Report()
    now = timezone.now()
    stale = PaymentAttempt.objects.filter(
        state=PaymentAttempt.State.OPEN, opened_at__lt=now - older_than
    )
    gap = 1.0 / per_second if per_second > 0 else 0.0
    for attempt in stale.select_related("order").order_by("opened_at", "pk")[:limit]:
        if report.checked:
            time.sleep(gap)
        report.checked += 1
        try:
            abandoned = attempt.opened_at < now - abandon_after or _reservation_lapsed(
                attempt, now=now
            )
            changed = _reconcile(attempt, abandoned=abandoned)
        except StripeObjectMissing:
            # Gone from Stripe (an account or key change): it can never be paid, so it closes
            # rather than failing every run and keeping its order pending for ever.
            attempts.attempt_close(attempt=attempt, source=SOURCE, note="gone from Stripe")
            changed = "closed"
        except PaymentError as exc:
            logger.warning("reconciliation of order %s failed: %s", attempt.order_id, exc.message)
            report.failed.append(attempt.order_id)
            continue
        if changed == "paid":
            report.paid.append(attempt.order_id)
        elif changed == "closed" and attempt.order.status == Order.Status.PENDING:
            attempt.order.refresh_from_db(fields=["status"])
            if attempt.order.status == Order.Status.OPEN:
                report.reopened.append(attempt.order_id)
    # Pending with no open attempt: its checkout never got going (or the attempt was lost).
    stranded = Order.objects.filter(
        status=Order.Status.PENDING, updated_at__lt=now - older_than
    ).exclude(payment_attempts__state=PaymentAttempt.State.OPEN)
    for order in stranded.order_by("updated_at", "pk"):
        report.checked += 1
        if lifecycle.order_reopen(order_id=order.pk, source=SOURCE):
            report.reopened.append(order.pk)
    return report


def _reservation_lapsed(attempt: PaymentAttempt, *, now: datetime) -> bool:
    """A PaymentIntent's order holds stock past its time (Checkout expires its own sessions)."""
    if attempt.kind != PaymentAttempt.Kind.PAYMENT_INTENT:
        return False
    return Reservation.objects.filter(
        order_id=attempt.order_id,
        state=Reservation.State.HELD,
        reserved_until__lt=now,
    ).exists()


def _reconcile(attempt: PaymentAttempt, *, abandoned: bool) -> str:
    order = attempt.order
    if not attempt.stripe_id:
        # Still being made long after any Stripe call would have ended: the request died.
        attempts.attempt_fail(attempt=attempt, source=f"{SOURCE}: never made")
        return "closed"
    if attempt.kind == PaymentAttempt.Kind.CHECKOUT_SESSION:
        session = gateway.retrieve_checkout_session(
            currency=order.currency, session_id=attempt.stripe_id
        )
        if fulfil_checkout_session(session, source=SOURCE):
            return "paid"
        if session.status == "expired":
            attempts.attempt_close(attempt=attempt, source=SOURCE, note="session expired")
            return "closed"
        return ""
    intent = gateway.retrieve_payment_intent(
        currency=order.currency, payment_intent_id=attempt.stripe_id
    )
    if fulfil_payment_intent(intent, source=SOURCE):
        return "paid"
    if intent.status == intents.CANCELED:
        attempts.attempt_close(attempt=attempt, source=SOURCE, note="intent canceled")
        return "closed"
    if abandoned and intent.status.startswith("requires_"):
        intents.close_intent(currency=order.currency, payment_intent_id=intent.id)
        attempts.attempt_close(attempt=attempt, source=f"{SOURCE}: abandoned", note="abandoned")
        return "closed"
    return ""
