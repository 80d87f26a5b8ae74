"""A customer back from Stripe: confirm with Stripe what the return URL only claims."""

import logging
from dataclasses import dataclass

from kassa.orders.models import Order
from kassa.payments.fulfilment import fulfil_checkout_session, fulfil_payment_intent
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api import checkout_sessions, payment_intents, results
from kassa.stripe_api.errors import PaymentError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Return:
    order: Order | None
    # Stripe says this payment did not go through (a declined card after a redirect).
    failed: bool = False


def confirm_return(*, session_id: str, payment_intent_id: str) -> Return:
    """The order the return is about, fulfilled if Stripe says it is paid (webhook or not)."""
    if session_id and not results.is_stripe_id(session_id):
        return Return(order=None)  # not an id Stripe makes (a typo, or a NUL for the database)
    if payment_intent_id and not results.is_stripe_id(payment_intent_id):
        return Return(order=None)
    if session_id:
        kind, stripe_id = PaymentAttempt.Kind.CHECKOUT_SESSION, session_id
    elif payment_intent_id:
        kind, stripe_id = PaymentAttempt.Kind.PAYMENT_INTENT, payment_intent_id
    else:
        return Return(order=None)
    attempt = (
        PaymentAttempt.objects.filter(kind=kind, stripe_id=stripe_id)
        .select_related("order")
        .order_by("-number")
        .first()
    )
    if attempt is None:
        return Return(order=None)
    order = attempt.order
    failed = False
    if not order.is_paid:
        try:
            if session_id:
                session = checkout_sessions.retrieve_session(
                    currency=order.currency, session_id=session_id
                )
                fulfil_checkout_session(session, source=f"return from checkout {session_id}")
            else:
                intent = payment_intents.retrieve_intent(
                    currency=order.currency, payment_intent_id=payment_intent_id
                )
                fulfil_payment_intent(intent, source=f"return from payment {payment_intent_id}")
                failed = intent.status in ("requires_payment_method", "canceled")
        except PaymentError as exc:
            # The webhook will still arrive; the page says the payment is being confirmed.
            logger.warning("could not confirm return for order %s: %s", order.pk, exc.message)
        order.refresh_from_db()
    return Return(order=order, failed=failed)
