"""Paying an Order on our own page (Stripe's Payment Element): one PaymentIntent per order.

The PaymentIntent is the alternative to a Checkout Session, and the two never coexist: starting
either closes the other (attempts.py). Unlike a session, a PaymentIntent that can still be paid
is kept when the customer comes back, its amount brought up to date, so reloading the payment
page neither strands an intent nor makes a second one.
"""

import logging

from django.utils.translation import gettext as _
from stripe.params import PaymentIntentCreateParams

from kassa.catalog.models import Item
from kassa.orders import lifecycle
from kassa.orders.models import Order
from kassa.orders.pricing import Totals, order_totals
from kassa.orders.visitors import Visitor
from kassa.payments import gateway
from kassa.payments.attempts import close_previous_except_intent
from kassa.payments.checkout import buy_now
from kassa.payments.errors import CheckoutConflict, CheckoutSuperseded, PaymentError

logger = logging.getLogger(__name__)


def _totals(order: Order) -> Totals:
    """What the order costs now, read afresh from the database (never from the client)."""
    fresh = Order.objects.select_related("discount", "tax").get(pk=order.pk)
    return order_totals(fresh, list(fresh.lines.select_related("item")))


def payment_intent_params(*, order: Order, amount: int) -> PaymentIntentCreateParams:
    order_ref = str(order.pk)
    return {
        "amount": amount,
        "currency": order.currency,
        "automatic_payment_methods": {"enabled": True},
        "metadata": {"order_id": order_ref},
        "description": f"Kassa order #{order_ref}",
    }


def payment_intent_start(*, order: Order, claimed: int | None = None) -> gateway.PaymentIntent:
    """The order's PaymentIntent, for exactly the total we show; any Checkout Session started
    for the order can no longer be paid afterwards.

    `claimed`: the attempt a new order was created in (buy_now), with none before it to close.
    """
    gateway.ensure_configured(order.currency)
    totals = _totals(order)
    if totals.is_free:
        # Stripe cannot charge nothing; Checkout handles a free order, the Payment Element not.
        raise CheckoutConflict(_("This order costs nothing, so there is no card payment to make."))
    if claimed is None:
        attempt, previous_session, previous_intent = lifecycle.order_begin_checkout(order=order)
        # If closing fails, the order stays pending on its previous, still payable attempt.
        kept = close_previous_except_intent(
            order=order, session_id=previous_session, payment_intent_id=previous_intent
        )
    else:
        attempt, kept = claimed, None
    # The lines are frozen now; a new order's (claimed) were already when `totals` was read.
    amount = totals.total if claimed is not None else _totals(order).total
    if kept is not None:
        # Should updating fail, the order keeps the intent it had, still its one payable attempt.
        return _keep_intent(order=order, attempt=attempt, intent=kept, amount=amount)
    try:
        return _create_intent(order=order, attempt=attempt, amount=amount)
    except CheckoutSuperseded:
        raise  # the newer attempt owns the order now
    except PaymentError:
        # No payable attempt is left for the order: give the customer their cart back.
        lifecycle.order_reopen(order_id=order.pk, attempt=attempt, source="payment failed to start")
        raise


def _keep_intent(
    *, order: Order, attempt: int, intent: gateway.PaymentIntent, amount: int
) -> gateway.PaymentIntent:
    if intent.amount != amount:
        # The order changed since the intent was made (the customer edited the cart in between,
        # or its discount lapsed as this attempt began): they pay what the order says now.
        intent = gateway.update_payment_intent_amount(
            currency=order.currency,
            payment_intent_id=intent.id,
            amount=amount,
            idempotency_key=f"kassa-payment-intent-amount-{order.pk}-{attempt}",
        )
    if not lifecycle.order_attach_payment(
        order=order, attempt=attempt, payment_intent_id=intent.id
    ):
        # The newer attempt found this same intent on the order and decides what becomes of it.
        raise CheckoutSuperseded(_("A newer payment for this order was started in another window."))
    return intent


def _create_intent(*, order: Order, attempt: int, amount: int) -> gateway.PaymentIntent:
    intent = gateway.create_payment_intent(
        currency=order.currency,
        params=payment_intent_params(order=order, amount=amount),
        idempotency_key=f"kassa-payment-intent-{order.pk}-{attempt}",
    )
    if not lifecycle.order_attach_payment(
        order=order, attempt=attempt, payment_intent_id=intent.id
    ):
        # A newer attempt for this order started while ours was being created: ours must not
        # stay payable next to it.
        logger.info("payment intent for order %s superseded; cancelling %s", order.pk, intent.id)
        gateway.cancel_payment_intent(currency=order.currency, payment_intent_id=intent.id)
        raise CheckoutSuperseded(_("A newer payment for this order was started in another window."))
    return intent


def pay_item(*, item: Item, visitor: Visitor) -> tuple[Order, gateway.PaymentIntent]:
    """Buy one item now on our own page: a one-line order and its PaymentIntent."""
    return buy_now(
        item=item,
        visitor=visitor,
        # A PaymentIntent's amount is always read afresh from the database, lines and all.
        start=lambda order, attempt, _lines: payment_intent_start(order=order, claimed=attempt),
    )
