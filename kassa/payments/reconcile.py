"""Catching up on missed webhooks: ask Stripe about attempts left open."""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from kassa.orders import lifecycle
from kassa.orders.models import Order, Reservation
from kassa.payments import attempts, checkout, intents
from kassa.payments.fulfilment import fulfil_checkout_session, fulfil_payment_intent
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api import checkout_sessions, payment_intents, results
from kassa.stripe_api.errors import PaymentError, StripeObjectMissing

logger = logging.getLogger(__name__)
Kind = PaymentAttempt.Kind
SOURCE = "reconciliation"
# Pages of Stripe's session list read to find one lost answer (100 sessions each).
LOST_SESSION_PAGES = 5


def longest_stripe_call() -> timedelta:
    """How long the shop can wait on one Stripe call, retries included: an attempt still without
    its Stripe object after this (and a margin) was abandoned by the request making it."""
    calls = settings.STRIPE_MAX_NETWORK_RETRIES + 1
    return timedelta(seconds=settings.STRIPE_TIMEOUT_SECONDS * calls + 60)


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
    unmade_after: timedelta | None = None,
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

    An attempt that never got its Stripe object (the request died, or the database failed
    between Stripe's answer and recording it) is taken up after `unmade_after` (by default the
    longest a Stripe call can take, a minute or two), not `older_than`: its order would
    otherwise stay pending, unpayable, for a quarter of an hour.
    """
    report = Report()
    now = timezone.now()
    unmade_after = unmade_after if unmade_after is not None else longest_stripe_call()
    stale = PaymentAttempt.objects.filter(state=PaymentAttempt.State.OPEN).filter(
        Q(opened_at__lt=now - older_than) | Q(stripe_id="", opened_at__lt=now - unmade_after)
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
            changed = (
                _reconcile(attempt, abandoned=abandoned)
                if attempt.stripe_id
                else _close_unmade(attempt, gap=gap)
            )
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


def _close_unmade(attempt: PaymentAttempt, *, gap: float) -> str:
    """Close an attempt whose Stripe object never reached us, long after any Stripe call would
    have ended. Stripe may have made the Checkout Session all the same (its answer was lost):
    nobody can pay it, since only the lost answer carried its address, but it is found among
    the sessions the account made in those seconds and expired, so none stays open at Stripe;
    should one be paid after all, it is recorded through this attempt. A PaymentIntent needs its
    client secret, which only the lost answer carried, to be paid: nothing to look for."""
    found = _lost_sessions(attempt, gap=gap) if attempt.kind == Kind.CHECKOUT_SESSION else []
    for session in found:
        if session.status == "complete":
            attempts.attempt_attach(
                attempt=attempt, stripe_id=session.id, amount=session.amount_total
            )
            if fulfil_checkout_session(session, source=f"{SOURCE}: lost answer found paid"):
                return "paid"
        elif session.status == "open":
            checkout.close_session(currency=attempt.order.currency, session_id=session.id)
    note = f"never made; {len(found)} lost session(s) expired" if found else "never made"
    attempts.attempt_fail(attempt=attempt, source=f"{SOURCE}: {note}")
    return "closed"


def _lost_sessions(attempt: PaymentAttempt, *, gap: float) -> list[results.CheckoutSession]:
    """The Checkout Sessions naming the attempt's order, made while its request could have been
    waiting on Stripe, that none of the order's attempts recorded."""
    order = attempt.order
    known = set(
        PaymentAttempt.objects.filter(order=order)
        .exclude(stripe_id="")
        .values_list("stripe_id", flat=True)
    )
    since = int(attempt.opened_at.timestamp()) - 5  # clocks a little apart
    until = int((attempt.opened_at + longest_stripe_call()).timestamp())
    found, after = [], ""
    for _page in range(LOST_SESSION_PAGES):
        page = checkout_sessions.sessions_created(
            currency=order.currency, since=since, until=until, starting_after=after
        )
        found += [s for s in page.sessions if s.order_id == str(order.pk) and s.id not in known]
        if not page.has_more or not page.sessions:
            break
        after = page.sessions[-1].id
        time.sleep(gap)
    return found


def _reconcile(attempt: PaymentAttempt, *, abandoned: bool) -> str:
    order = attempt.order
    if attempt.kind == PaymentAttempt.Kind.CHECKOUT_SESSION:
        session = checkout_sessions.retrieve_session(
            currency=order.currency, session_id=attempt.stripe_id
        )
        if fulfil_checkout_session(session, source=SOURCE):
            return "paid"
        if session.status == "expired":
            attempts.attempt_close(attempt=attempt, source=SOURCE, note="session expired")
            return "closed"
        return ""
    intent = payment_intents.retrieve_intent(
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
