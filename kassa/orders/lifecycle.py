"""An order's status, and the only code that changes it.

    open ──checkout started──▶ pending ──paid──▶ paid ──refund──▶ partially_refunded / refunded
      ▲                           │
      └──cancelled / expired / failed

Each transition is one idempotent function: calling it again, or for an event that arrives late
or out of order, changes nothing. Every change is logged as an OrderStatusChange.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.orders.errors import EmptyOrder, OrderNotEditable
from kassa.orders.models import Order, OrderLine, OrderStatusChange

logger = logging.getLogger(__name__)
S = Order.Status

_ALLOWED = {
    S.OPEN: {S.PENDING, S.PAID},  # paid from open: money moved, so it is recorded regardless
    S.PENDING: {S.OPEN, S.PAID},
    S.PAID: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.PARTIALLY_REFUNDED: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.REFUNDED: set(),
}


def _lock(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _move(order: Order, to: str, *, source: str, fields: list[str]) -> None:
    if to not in _ALLOWED[S(order.status)]:
        raise OrderNotEditable(f"An order cannot go from {order.status} to {to}.")
    OrderStatusChange.objects.create(
        order=order, from_status=order.status, to_status=to, source=source[:80]
    )
    logger.info("order %s: %s -> %s (%s)", order.pk, order.status, to, source)
    order.status = to
    order.save(update_fields=["status", "updated_at", *fields])


@transaction.atomic
def order_begin_checkout(*, order: Order) -> tuple[int, str, str]:
    """Claim a new payment attempt for `order` and freeze its lines (pending).

    Returns the attempt number (for Stripe idempotency keys) and the previous attempt's
    Checkout Session and PaymentIntent ids, which the caller must close so only one is payable.
    """
    locked = _lock(order.pk)
    if locked.status not in (S.OPEN, S.PENDING):
        raise OrderNotEditable(_("This order has already been paid."))
    if not OrderLine.objects.filter(order=locked).exists():
        raise EmptyOrder(_("The order is empty: add an item before paying."))
    locked.checkout_attempt += 1
    if locked.status == S.OPEN:
        fields = ["checkout_attempt"]
        if locked.discount is not None and not locked.discount.applies_to(locked.currency):
            # A code switched off while it sat in the cart: the cart showed no discount, so
            # the payment takes none. From here on the order keeps the discount it began with.
            locked.discount = None
            fields.append("discount")
        _move(locked, S.PENDING, source="checkout started", fields=fields)
    else:
        locked.save(update_fields=["checkout_attempt", "updated_at"])
    order.status, order.checkout_attempt = locked.status, locked.checkout_attempt
    order.discount = locked.discount
    return (
        locked.checkout_attempt,
        locked.stripe_checkout_session_id,
        locked.stripe_payment_intent_id,
    )


def order_create_in_checkout(*, order: Order) -> int:
    """Save a new order straight into its first payment attempt (pending); the caller adds its
    lines in the same transaction. No one else knows the order yet, so there is nothing to lock,
    no line count to check and no earlier attempt to close: the order row is inserted already
    pending, with no UPDATE after it (a Buy click's one-line order, see `make bench`). Its status
    log reads open -> pending, "checkout started", as any order's first attempt does.
    """
    new = order._state.adding and order.status == S.OPEN and not order.checkout_attempt
    if not transaction.get_connection().in_atomic_block or not new:
        raise OrderNotEditable("Only an order being created can begin its first checkout here.")
    order.status, order.checkout_attempt = S.PENDING, 1
    order.save(force_insert=True)
    OrderStatusChange.objects.create(
        order=order, from_status=S.OPEN, to_status=S.PENDING, source="checkout started"
    )
    logger.info("order %s: new -> %s (checkout started)", order.pk, order.status)
    return order.checkout_attempt


def order_attach_payment(
    *, order: Order, attempt: int, checkout_session_id: str = "", payment_intent_id: str = ""
) -> bool:
    """Record the attempt's Checkout Session or PaymentIntent, unless a newer attempt began.

    One conditional UPDATE (the database re-checks its WHERE against a concurrent writer) rather
    than lock, read, write: every Buy click ends here, with one statement instead of four.
    """
    attached = Order.objects.filter(pk=order.pk, checkout_attempt=attempt, status=S.PENDING).update(
        stripe_checkout_session_id=checkout_session_id,
        stripe_payment_intent_id=payment_intent_id,
        updated_at=timezone.now(),
    )
    if not attached:
        return False
    order.stripe_checkout_session_id = checkout_session_id
    order.stripe_payment_intent_id = payment_intent_id
    return True


@transaction.atomic
def order_reopen(
    *, order_id: int, source: str, attempt: int | None = None, session_id: str = ""
) -> bool:
    """Pending back to open: its checkout was cancelled, expired, failed or never started.

    With `attempt` or `session_id`, only if that is still the order's current payment attempt
    (an old session expiring must not reopen an order that has moved on).
    """
    locked = _lock(order_id)
    if locked.status != S.PENDING:
        return False
    if attempt is not None and locked.checkout_attempt != attempt:
        return False
    if session_id and locked.stripe_checkout_session_id != session_id:
        return False
    locked.stripe_checkout_session_id = ""
    locked.stripe_payment_intent_id = ""
    _move(
        locked,
        S.OPEN,
        source=source,
        fields=["stripe_checkout_session_id", "stripe_payment_intent_id"],
    )
    return True


@transaction.atomic
def order_mark_paid(
    *,
    order_id: int,
    amount: int,
    source: str,
    checkout_session_id: str = "",
    payment_intent_id: str = "",
) -> bool:
    """Record a payment Stripe confirmed. Returns False if the order was already paid."""
    locked = _lock(order_id)
    if locked.is_paid:
        paid_by = (locked.stripe_checkout_session_id, locked.stripe_payment_intent_id)
        if (checkout_session_id or payment_intent_id) not in paid_by:
            # A second, different payment for one order: staff must refund one of them.
            logger.error(
                "order %s was already paid (%s); another payment arrived: %s",
                order_id,
                " ".join(filter(None, paid_by)),
                checkout_session_id or payment_intent_id,
            )
        return False
    if checkout_session_id:
        locked.stripe_checkout_session_id = checkout_session_id
    if payment_intent_id:
        locked.stripe_payment_intent_id = payment_intent_id
    locked.amount_paid = amount
    locked.paid_at = timezone.now()
    _move(
        locked,
        S.PAID,
        source=source,
        fields=["stripe_checkout_session_id", "stripe_payment_intent_id", "amount_paid", "paid_at"],
    )
    return True


@transaction.atomic
def order_mark_refunded(*, order_id: int, amount_refunded: int, source: str) -> bool:
    """Record the total refunded so far (Stripe's running figure), full or partial."""
    locked = _lock(order_id)
    if not locked.is_paid or amount_refunded <= locked.amount_refunded:
        return False  # nothing new: a repeat, or an older event arriving late
    full = locked.amount_paid is not None and amount_refunded >= locked.amount_paid
    locked.amount_refunded = amount_refunded
    locked.refunded_at = timezone.now()
    _move(
        locked,
        S.REFUNDED if full else S.PARTIALLY_REFUNDED,
        source=source,
        fields=["amount_refunded", "refunded_at"],
    )
    return True
