"""Catching up on missed webhooks: ask Stripe about attempts left open."""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from kassa.orders import lifecycle
from kassa.orders.models import Order, Reservation
from kassa.payments import attempts, tax_records
from kassa.payments.fulfilment import fulfil
from kassa.payments.methods import method_for
from kassa.payments.methods.base import RemoteState
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api.client import longest_call
from kassa.stripe_api.errors import PaymentError, StripeObjectMissing

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
    unmade_after = unmade_after if unmade_after is not None else longest_call()
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
    # Card-page sales and refunds Stripe Tax has not recorded yet (Stripe could not be reached
    # after they committed).
    tax_records.send_unrecorded(limit=limit)
    return report


def _reservation_lapsed(attempt: PaymentAttempt, *, now: datetime) -> bool:
    """The attempt's order holds stock past its time, and Stripe will not close the object by
    itself (a Checkout Session expires when its reservation does)."""
    if method_for(attempt.kind).expires_itself:
        return False
    return Reservation.objects.filter(
        order_id=attempt.order_id,
        state=Reservation.State.HELD,
        reserved_until__lt=now,
    ).exists()


def _close_unmade(attempt: PaymentAttempt, *, gap: float) -> str:
    """Close an attempt whose Stripe object never reached us, long after any Stripe call would
    have ended. Stripe may have made the object all the same (its answer was lost): the kind
    looks for such objects, which are closed so none stays payable at Stripe; should one be
    paid after all, it is recorded through this attempt."""
    method = method_for(attempt.kind)
    found = method.lost(attempt, gap=gap)
    for remote in found:
        if remote.state is RemoteState.PAID:
            attempts.attempt_attach(
                attempt=attempt, stripe_id=remote.stripe_id, amount=remote.amount - remote.shipping
            )
            if fulfil(remote, source=f"{SOURCE}: lost answer found paid"):
                return "paid"
        elif remote.state is RemoteState.OPEN:
            method.close(currency=attempt.order.currency, stripe_id=remote.stripe_id)
    note = f"never made; {len(found)} lost {method.label}(s) closed" if found else "never made"
    attempts.attempt_fail(attempt=attempt, source=f"{SOURCE}: {note}")
    return "closed"


def _reconcile(attempt: PaymentAttempt, *, abandoned: bool) -> str:
    method = method_for(attempt.kind)
    remote = method.retrieve(currency=attempt.order.currency, stripe_id=attempt.stripe_id)
    if fulfil(remote, source=SOURCE):
        return "paid"
    if remote.state is RemoteState.CLOSED:
        attempts.attempt_close(attempt=attempt, source=SOURCE, note=remote.note)
        return "closed"
    if abandoned and remote.state is RemoteState.OPEN and not method.expires_itself:
        given_up = method.close(currency=attempt.order.currency, stripe_id=remote.stripe_id)
        source = f"{SOURCE}: abandoned"
        if attempts.attempt_close(attempt=attempt, source=source, note="abandoned") and (
            given_up.recovery_email
        ):
            # As Checkout's session expiring: a customer who agreed gets one reminder.
            lifecycle.order_offer_recovery(
                order_id=attempt.order_id, email=given_up.recovery_email, source=source
            )
        return "closed"
    return ""
