"""An order has at most one payable Stripe attempt: closing the previous one before the next."""

from django.utils.translation import gettext as _

from kassa.orders.models import Order
from kassa.payments import gateway
from kassa.payments.errors import CheckoutConflict
from kassa.payments.fulfilment import fulfil_checkout_session, fulfil_payment_intent


def close_checkout_session(*, order: Order, session_id: str) -> None:
    """Make sure `session_id` can no longer be paid: expire it if it is still open.

    Raises CheckoutConflict if the customer already paid through it (the order is then marked
    paid here, in case the webhook has not arrived yet) or a payment through it is processing.
    """
    session = gateway.retrieve_checkout_session(currency=order.currency, session_id=session_id)
    if session.status == "open":
        session = gateway.expire_checkout_session(currency=order.currency, session_id=session_id)
    if session.status == "complete":
        fulfil_checkout_session(session, source=f"checkout {session.id} found paid")
        raise CheckoutConflict(
            _("This order has already been paid. It will show as paid in a moment.")
        )


def _unsettled_payment_intent(*, order: Order, payment_intent_id: str) -> gateway.PaymentIntent:
    """The PaymentIntent, unless money is moving through it: then CheckoutConflict (and the order
    is marked paid here if it succeeded, in case the webhook has not arrived yet)."""
    intent = gateway.retrieve_payment_intent(
        currency=order.currency, payment_intent_id=payment_intent_id
    )
    if intent.status == "succeeded":
        fulfil_payment_intent(intent, source=f"payment intent {intent.id} found paid")
        raise CheckoutConflict(
            _("This order has already been paid. It will show as paid in a moment.")
        )
    if intent.status == "processing":
        raise CheckoutConflict(
            _("A payment for this order is being processed. Please wait a moment.")
        )
    return intent


def close_payment_intent(*, order: Order, payment_intent_id: str) -> None:
    """Make sure `payment_intent_id` can no longer be paid: cancel it unless it is settled."""
    intent = _unsettled_payment_intent(order=order, payment_intent_id=payment_intent_id)
    if intent.status != "canceled":
        gateway.cancel_payment_intent(currency=order.currency, payment_intent_id=intent.id)


def close_previous(*, order: Order, session_id: str, payment_intent_id: str) -> None:
    if session_id:
        close_checkout_session(order=order, session_id=session_id)
    elif payment_intent_id:
        close_payment_intent(order=order, payment_intent_id=payment_intent_id)


def close_previous_except_intent(
    *, order: Order, session_id: str, payment_intent_id: str
) -> gateway.PaymentIntent | None:
    """Like close_previous, but a previous PaymentIntent of this order that can still be paid is
    kept and returned instead of cancelled: the PaymentIntent flow keeps one per order."""
    if session_id or not payment_intent_id:
        close_previous(order=order, session_id=session_id, payment_intent_id=payment_intent_id)
        return None
    intent = _unsettled_payment_intent(order=order, payment_intent_id=payment_intent_id)
    if intent.status == "canceled" or intent.order_id != str(order.pk):
        return None
    return intent
