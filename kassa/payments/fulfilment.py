"""What Stripe says happened to a payment, applied to our order: one function per transition.

The webhook, the success page, reconciliation and refunds all come through here, and every
function is idempotent: a repeated, late or out-of-order report changes nothing.
"""

import logging

from kassa.orders import lifecycle
from kassa.orders.models import Order
from kassa.payments.gateway import CheckoutSession, PaymentIntent

logger = logging.getLogger(__name__)


def _order(order_id: str) -> Order | None:
    if not (order_id.isascii() and order_id.isdigit()):
        return None
    return Order.objects.filter(pk=int(order_id)).first()


def fulfil_checkout_session(session: CheckoutSession, *, source: str) -> bool:
    """Mark the session's order paid if Stripe says the session is paid. True if it changed."""
    if session.status != "complete" or session.payment_status not in (
        "paid",
        "no_payment_required",
    ):
        return False  # e.g. an async payment method still processing
    order = _order(session.order_id)
    if order is None:
        logger.error("paid checkout session %s names no order of ours", session.id)
        return False
    return lifecycle.order_mark_paid(
        order_id=order.pk,
        amount=session.amount_total,
        source=source,
        checkout_session_id=session.id,
        payment_intent_id=session.payment_intent,
    )


def fulfil_payment_intent(intent: PaymentIntent, *, source: str) -> bool:
    """Mark the PaymentIntent's order paid if it succeeded. True if it changed."""
    if intent.status != "succeeded":
        return False
    order = _order(intent.order_id)
    if order is None:
        logger.error("succeeded payment intent %s names no order of ours", intent.id)
        return False
    return lifecycle.order_mark_paid(
        order_id=order.pk,
        amount=intent.amount_received or intent.amount,
        source=source,
        payment_intent_id=intent.id,
    )


def checkout_session_closed(session: CheckoutSession, *, source: str) -> bool:
    """An expired or failed session gives the customer their cart back, if it was current."""
    order = _order(session.order_id)
    if order is None:
        return False
    return lifecycle.order_reopen(order_id=order.pk, source=source, session_id=session.id)


def record_refund(*, payment_intent_id: str, amount_refunded: int, source: str) -> bool:
    """Stripe's running total refunded for a payment, applied to its order."""
    order = Order.objects.filter(stripe_payment_intent_id=payment_intent_id).first()
    if order is None:
        raise LookupError(f"No order is paid by {payment_intent_id} (yet).")
    return lifecycle.order_mark_refunded(
        order_id=order.pk, amount_refunded=amount_refunded, source=source
    )
