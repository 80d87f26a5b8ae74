"""Payment attempts as records: every write to PaymentAttempt, keeping the order's lifecycle in
step. An order is pending while it has an open attempt; closing or failing its last open attempt
gives the customer their cart back. Locks are taken order first, then its attempts, everywhere.
"""

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from kassa.common.inserts import Together
from kassa.giftcards import paying as gift_cards
from kassa.orders import lifecycle
from kassa.orders.models import Order
from kassa.payments import buyer
from kassa.payments.models import PaymentAttempt

logger = logging.getLogger(__name__)
State = PaymentAttempt.State


@dataclass(frozen=True)
class Begun:
    attempt: PaymentAttempt
    # The order's earlier attempts still open, with a Stripe object each: the caller makes sure
    # none of them can be paid any more. An earlier attempt whose object was still being made is
    # closed here already; whoever is making it closes the object when it arrives.
    earlier: list[PaymentAttempt]
    # What the cart's gift cards were held for as it began (minor units).
    held_by_gift_cards: int = 0
    # Held for all of it: the order is paid without Stripe, its confirmation to this address.
    paid_by_gift_cards_for: str = ""


@transaction.atomic
def attempt_begin(*, order: Order, kind: str, account: str, email: str = "") -> Begun:
    """A new attempt for `order` (pending from here), numbered after every earlier one.
    `email` (checked by buyer.typed_email) is the buyer's, in case the gift cards pay all."""
    lifecycle.order_begin_payment(order=order)  # locks the order until this commits
    # What the cart's gift cards pay is held with it, under each card's row lock.
    held = gift_cards.hold_for_payment(order=order)
    confirm_to = ""
    if held and gift_cards.pays_all(order=order, held=held):
        # Decided here, on the holds just made: without an address to confirm it to, this
        # raises and the transaction takes everything back (holds, the order's status).
        confirm_to = buyer.email_for_cards_alone(order, typed=email)
    attempts = list(
        PaymentAttempt.objects.select_for_update().filter(order=order).order_by("number")
    )
    earlier = []
    for attempt in attempts:
        if attempt.state != State.OPEN:
            continue
        if attempt.stripe_id:
            earlier.append(attempt)
        else:
            _finish(attempt, State.CLOSED, note="superseded while being made")
    number = attempts[-1].number + 1 if attempts else 1
    attempt = PaymentAttempt.objects.create(
        order=order, number=number, kind=kind, account=account, currency=order.currency
    )
    return Begun(
        attempt=attempt,
        earlier=earlier,
        held_by_gift_cards=held,
        paid_by_gift_cards_for=confirm_to,
    )


def attempt_begin_new_order(
    *, order: Order, kind: str, account: str, rows: Together
) -> PaymentAttempt:
    """The first attempt of an order created for it (Buy now), added to the order's `rows`, which
    the creating transaction writes together (kassa.common.inserts)."""
    attempt = PaymentAttempt(
        order=order, number=1, kind=kind, account=account, currency=order.currency
    )
    rows.add(attempt)
    return attempt


def attempt_attach(
    *, attempt: PaymentAttempt, stripe_id: str, amount: int, payment_intent_id: str = ""
) -> bool:
    """Record the Stripe object made for `attempt` and what it asks. False if a newer attempt
    closed ours meanwhile: the object is recorded all the same, and the caller closes it.

    One conditional UPDATE (the database re-checks its WHERE against a concurrent writer) rather
    than lock, read, write: every Buy click ends here, so it is written as SQL, which costs less
    than half of the ORM's building the same statement.
    """
    attached = _record_made(attempt, stripe_id, amount, payment_intent_id, only_open=True)
    if not attached:
        _record_made(attempt, stripe_id, amount, payment_intent_id, only_open=False)
        attempt.state = State.CLOSED
    attempt.stripe_id, attempt.amount = stripe_id, amount
    attempt.payment_intent_id = payment_intent_id
    return bool(attached)


def _record_made(
    attempt: PaymentAttempt, stripe_id: str, amount: int, payment_intent_id: str, *, only_open: bool
) -> int:
    sql = "UPDATE {table} SET stripe_id = %s, amount = %s, payment_intent_id = %s WHERE id = %s"
    sql = sql.format(table=PaymentAttempt._meta.db_table)
    params: list[str | int] = [stripe_id, amount, payment_intent_id, attempt.pk]
    if only_open:
        sql += " AND state = %s"
        params.append(State.OPEN.value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@transaction.atomic
def attempt_close(*, attempt: PaymentAttempt, source: str, note: str = "") -> bool:
    """`attempt` can no longer be paid (we closed it, or Stripe expired or cancelled it).
    Reopens the order when it was the last open one. Returns whether the attempt was open."""
    return _end(attempt, State.CLOSED, source=source, note=note)


@transaction.atomic
def attempt_fail(*, attempt: PaymentAttempt, source: str) -> bool:
    """Stripe could not make `attempt`'s object, or the attempt could not go on: as closing."""
    return _end(attempt, State.FAILED, source=source, note=source)


@transaction.atomic
def attempt_discard_new_order(*, attempt: PaymentAttempt, source: str) -> None:
    """A Buy click's order whose first attempt failed: it existed only for this payment, so it
    goes, with the attempt, through the lifecycle. Should anything else have happened to the
    order since (a newer attempt from its page), only the attempt fails."""
    order = Order.objects.select_for_update().get(pk=attempt.order_id)
    if PaymentAttempt.objects.filter(order=order).exclude(pk=attempt.pk).exists():
        _end(attempt, State.FAILED, source=source, note=source)
        return
    PaymentAttempt.objects.filter(pk=attempt.pk).delete()
    lifecycle.order_discard(order_id=order.pk, source=source)


@transaction.atomic
def attempt_mark_paid(*, attempt: PaymentAttempt, payment_intent_id: str) -> None:
    """Stripe says money moved through `attempt`."""
    PaymentAttempt.objects.filter(pk=attempt.pk).update(
        state=State.PAID,
        payment_intent_id=payment_intent_id or attempt.payment_intent_id,
        closed_at=attempt.closed_at or timezone.now(),
    )
    attempt.state = State.PAID


def current_attempt(*, order: Order) -> PaymentAttempt | None:
    """The order's newest open attempt: the one a customer may be paying through."""
    return PaymentAttempt.objects.filter(order=order, state=State.OPEN).order_by("-number").first()


def _end(attempt: PaymentAttempt, state: str, *, source: str, note: str) -> bool:
    # The order's lock first: a new attempt beginning now must not find its order reopened.
    Order.objects.select_for_update().filter(pk=attempt.order_id).first()
    locked = PaymentAttempt.objects.select_for_update().get(pk=attempt.pk)
    if locked.state != State.OPEN:
        attempt.state = locked.state
        return False
    _finish(locked, state, note=note)
    attempt.state, attempt.closed_at = locked.state, locked.closed_at
    if not PaymentAttempt.objects.filter(order_id=attempt.order_id, state=State.OPEN).exists():
        lifecycle.order_reopen(order_id=attempt.order_id, source=source)
    return True


def _finish(attempt: PaymentAttempt, state: str, *, note: str) -> None:
    attempt.state, attempt.closed_at, attempt.note = state, timezone.now(), note[:120]
    attempt.save(update_fields=["state", "closed_at", "note"])
    logger.info("order %s attempt %s: %s (%s)", attempt.order_id, attempt.number, state, note)
