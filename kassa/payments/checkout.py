"""Turning an Order into a Stripe Checkout Session."""

from dataclasses import dataclass

from stripe.params.checkout import SessionCreateParams

from kassa.catalog.models import Item
from kassa.common.money import to_minor
from kassa.orders.models import Order
from kassa.orders.services import order_begin_checkout, order_create_for_item, order_mark_pending
from kassa.orders.visitors import Visitor
from kassa.payments import gateway
from kassa.payments.errors import PaymentError


@dataclass(frozen=True)
class ReturnUrls:
    """Absolute URLs Stripe sends the customer back to; success carries the session id."""

    success: str
    cancel: str


def checkout_params(*, order: Order, urls: ReturnUrls) -> SessionCreateParams:
    """The Checkout Session for `order`, built only from what the database says."""
    order_ref = str(order.pk)
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": to_minor(line.unit_price, order.currency),
                    "product_data": {"name": line.item.name},
                },
                "quantity": line.quantity,
            }
            for line in order.lines.select_related("item")
        ],
        "client_reference_id": order_ref,
        "metadata": {"order_id": order_ref},
        "payment_intent_data": {"metadata": {"order_id": order_ref}},
        "success_url": urls.success,
        "cancel_url": urls.cancel,
    }


def checkout_start(*, order: Order, urls: ReturnUrls) -> gateway.CheckoutSession:
    attempt = order_begin_checkout(order=order)
    session = gateway.create_checkout_session(
        currency=order.currency,
        params=checkout_params(order=order, urls=urls),
        idempotency_key=f"kassa-checkout-{order.pk}-{attempt}",
    )
    order_mark_pending(order=order, checkout_session_id=session.id)
    return session


def buy_item(
    *, item: Item, visitor: Visitor, urls: ReturnUrls
) -> tuple[Order, gateway.CheckoutSession]:
    """Buy one item now: a one-line order and its checkout, or nothing at all if Stripe fails."""
    gateway.ensure_configured(item.currency)
    order = order_create_for_item(item=item, visitor=visitor)
    try:
        session = checkout_start(order=order, urls=urls)
    except PaymentError:
        # The order existed only for this checkout; leave nothing half-written behind.
        order.delete()
        raise
    return order, session
