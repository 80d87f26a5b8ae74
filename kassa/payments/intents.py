"""An Order as a Stripe PaymentIntent, paid on the shop's own page (Stripe's Payment Element).

Unlike a Checkout Session, a PaymentIntent that can still be paid is kept when the customer comes
back, its amount brought up to date (kassa.payments.flow), so reloading the payment page neither
strands an intent nor makes a second one.
"""

from django.utils.translation import gettext as _

from kassa.orders.models import Order, OrderLine
from kassa.orders.shipping import ShippingOption
from kassa.orders.terms import offered
from kassa.payments.errors import CheckoutConflict
from kassa.stripe_api import payment_intents, results
from kassa.stripe_api.params import PaymentIntentCreateParams

# What Stripe's PaymentIntent statuses mean for closing one: money moving or moved, or neither.
SETTLED = "succeeded"
MOVING = "processing"
CANCELED = "canceled"


def default_shipping(*, order: Order, lines: list[OrderLine], goods: int) -> ShippingOption | None:
    """The shipping an intent asks for until the customer chooses: the cheapest rate offered,
    as Checkout shows an open session priced with its first option."""
    options = offered(order=order, lines=lines, goods=goods)
    return options[0] if options else None


def shipping_metadata(order: Order, option: ShippingOption | None) -> dict[str, str]:
    """What fulfilment reads back to record the shipping and to check the payment: the goods
    are the intent's amount less `shipping_amount`. Empty values remove a key at Stripe."""
    return {
        "order_id": str(order.pk),
        "shipping_rate_id": str(option.rate.pk) if option else "",
        "shipping_amount": str(option.amount) if option else "",
        "shipping_method": option.rate.name if option else "",
    }


def payment_intent_params(
    *, order: Order, goods: int, option: ShippingOption | None
) -> PaymentIntentCreateParams:
    order_ref = str(order.pk)
    return {
        "amount": goods + (option.amount if option else 0),
        "currency": order.currency,
        "automatic_payment_methods": {"enabled": True},
        # Stripe refuses empty metadata values on create.
        "metadata": {k: v for k, v in shipping_metadata(order, option).items() if v},
        "description": f"Kassa order #{order_ref}",
    }


def create_intent(
    *, order: Order, attempt: int, lines: list[OrderLine], goods: int
) -> results.PaymentIntent:
    """The attempt's intent for the goods (`goods` minor units) plus the default shipping."""
    option = default_shipping(order=order, lines=lines, goods=goods)
    return payment_intents.create_intent(
        currency=order.currency,
        params=payment_intent_params(order=order, goods=goods, option=option),
        idempotency_key=f"kassa-payment-intent-{order.pk}-{attempt}",
    )


def update_amount(
    *,
    order: Order,
    attempt: int,
    intent: results.PaymentIntent,
    amount: int,
    lines: list[OrderLine],
) -> results.PaymentIntent:
    """The kept intent, for what the order's goods (`amount`) cost now (the customer edited the
    cart in between, or its discount lapsed as this attempt began) with the default shipping:
    the page offers the choice afresh."""
    option = default_shipping(order=order, lines=lines, goods=amount)
    total = amount + (option.amount if option else 0)
    rate_id = option.rate.pk if option else None
    if intent.amount == total and intent.buyer.shipping_rate_id == rate_id:
        return intent
    return payment_intents.update_intent(
        currency=order.currency,
        payment_intent_id=intent.id,
        params={"amount": total, "metadata": shipping_metadata(order, option)},
        idempotency_key=f"kassa-payment-intent-amount-{order.pk}-{attempt}",
    )


def refuse_if_moving(intent: results.PaymentIntent) -> None:
    """A payment being processed is neither kept nor cancelled: the customer waits for it."""
    if intent.status == MOVING:
        raise CheckoutConflict(
            _("A payment for this order is being processed. Please wait a moment.")
        )


def close_intent(*, currency: str, payment_intent_id: str) -> results.PaymentIntent:
    """Make sure the intent can no longer be paid: cancel it unless money moved through it.
    Returns it as Stripe has it then (succeeded, if the customer paid first)."""
    intent = payment_intents.retrieve_intent(currency=currency, payment_intent_id=payment_intent_id)
    refuse_if_moving(intent)
    if intent.status not in (SETTLED, CANCELED):
        intent = payment_intents.cancel_intent(currency=currency, payment_intent_id=intent.id)
    return intent
