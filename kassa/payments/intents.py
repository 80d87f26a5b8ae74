"""An Order as a Stripe PaymentIntent, paid on the shop's own page (Stripe's Payment Element).

Unlike a Checkout Session, a PaymentIntent that can still be paid is kept when the customer comes
back, its amount brought up to date (kassa.payments.flow), so reloading the payment page neither
strands an intent nor makes a second one.
"""

from django.utils.translation import gettext as _
from stripe.params import PaymentIntentCreateParams

from kassa.orders.models import Order
from kassa.payments import gateway
from kassa.payments.errors import CheckoutConflict

# What Stripe's PaymentIntent statuses mean for closing one: money moving or moved, or neither.
SETTLED = "succeeded"
MOVING = "processing"
CANCELED = "canceled"


def payment_intent_params(*, order: Order, amount: int) -> PaymentIntentCreateParams:
    order_ref = str(order.pk)
    return {
        "amount": amount,
        "currency": order.currency,
        "automatic_payment_methods": {"enabled": True},
        "metadata": {"order_id": order_ref},
        "description": f"Kassa order #{order_ref}",
    }


def create_intent(*, order: Order, attempt: int, amount: int) -> gateway.PaymentIntent:
    return gateway.create_payment_intent(
        currency=order.currency,
        params=payment_intent_params(order=order, amount=amount),
        idempotency_key=f"kassa-payment-intent-{order.pk}-{attempt}",
    )


def update_amount(
    *, order: Order, attempt: int, intent: gateway.PaymentIntent, amount: int
) -> gateway.PaymentIntent:
    """The kept intent, for what the order costs now (the customer edited the cart in between, or
    its discount lapsed as this attempt began)."""
    if intent.amount == amount:
        return intent
    return gateway.update_payment_intent_amount(
        currency=order.currency,
        payment_intent_id=intent.id,
        amount=amount,
        idempotency_key=f"kassa-payment-intent-amount-{order.pk}-{attempt}",
    )


def refuse_if_moving(intent: gateway.PaymentIntent) -> None:
    """A payment being processed is neither kept nor cancelled: the customer waits for it."""
    if intent.status == MOVING:
        raise CheckoutConflict(
            _("A payment for this order is being processed. Please wait a moment.")
        )


def close_intent(*, currency: str, payment_intent_id: str) -> gateway.PaymentIntent:
    """Make sure the intent can no longer be paid: cancel it unless money moved through it.
    Returns it as Stripe has it then (succeeded, if the customer paid first)."""
    intent = gateway.retrieve_payment_intent(currency=currency, payment_intent_id=payment_intent_id)
    refuse_if_moving(intent)
    if intent.status not in (SETTLED, CANCELED):
        intent = gateway.cancel_payment_intent(currency=currency, payment_intent_id=intent.id)
    return intent
