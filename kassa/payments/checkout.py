"""Turning an Order into a Stripe Checkout Session, with at most one payable attempt per order."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from stripe.params.checkout import SessionCreateParams

from kassa.catalog.models import Item
from kassa.common.money import to_minor
from kassa.orders import lifecycle
from kassa.orders import services as order_services
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import discount_in_effect
from kassa.orders.visitors import Visitor
from kassa.payments import gateway
from kassa.payments.attempts import close_previous
from kassa.payments.errors import CheckoutSuperseded, PaymentError
from kassa.payments.stripe_objects import ensure_coupon, ensure_tax_rate

logger = logging.getLogger(__name__)

Attempt = TypeVar("Attempt")


@dataclass(frozen=True)
class ReturnUrls:
    """Absolute URLs Stripe sends the customer back to; success carries the session id."""

    success: str
    cancel: str


def checkout_locale() -> str:
    """The page's language as Stripe names it (every language the shop offers, Stripe has)."""
    return (get_language() or "auto").split("-")[0]


def checkout_params(
    *,
    order: Order,
    lines: list[OrderLine],
    urls: ReturnUrls,
    coupon_id: str | None,
    tax_rate_id: str | None,
) -> SessionCreateParams:
    """The Checkout Session for `order`, built only from what the database says."""
    order_ref = str(order.pk)
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": to_minor(line.unit_price, order.currency),
                    "product_data": {"name": line.item.name},
                },
                "quantity": line.quantity,
                **({"tax_rates": [tax_rate_id]} if tax_rate_id else {}),
            }
            for line in lines
        ],
        "client_reference_id": order_ref,
        "metadata": {"order_id": order_ref},
        "payment_intent_data": {"metadata": {"order_id": order_ref}},
        "success_url": urls.success,
        "cancel_url": urls.cancel,
        # Checkout speaks the language the customer was shopping in.
        "locale": checkout_locale(),
    }
    if coupon_id:
        params["discounts"] = [{"coupon": coupon_id}]
    return params


def checkout_start(
    *,
    order: Order,
    urls_for: Callable[[Order, int], ReturnUrls],
    claimed: int | None = None,
    lines: list[OrderLine] | None = None,
) -> gateway.CheckoutSession:
    """A new Checkout Session for `order`; any earlier attempt for it can no longer be paid.

    `urls_for(order, attempt)`: where Stripe sends the customer back from this attempt.
    `claimed`: the attempt a new order was created in (buy_now), with none before it to close;
    `lines`: that new order's lines, with their items, as it wrote them.
    """
    if lines is not None and claimed is None:
        # An order's lines can change until its attempt begins: only a new one's are known.
        raise ValueError("lines are handed on only with the new order's claimed attempt")
    gateway.ensure_configured(order.currency)
    if claimed is None:
        attempt, previous_session, previous_intent = lifecycle.order_begin_checkout(order=order)
        # If closing fails, the order stays pending on its previous, still payable attempt.
        close_previous(order=order, session_id=previous_session, payment_intent_id=previous_intent)
    else:
        attempt = claimed
    try:
        return _create_session(
            order=order, attempt=attempt, urls=urls_for(order, attempt), lines=lines
        )
    except CheckoutSuperseded:
        raise  # the newer attempt owns the order now
    except PaymentError:
        # No payable attempt is left for the order: give the customer their cart back.
        lifecycle.order_reopen(order_id=order.pk, attempt=attempt, source="checkout failed")
        raise


def _create_session(
    *, order: Order, attempt: int, urls: ReturnUrls, lines: list[OrderLine] | None
) -> gateway.CheckoutSession:
    if lines is None:
        lines = list(order.lines.select_related("item"))
    discount = discount_in_effect(order)
    coupon_id = ensure_coupon(discount=discount, currency=order.currency) if discount else None
    tax_rate_id = ensure_tax_rate(tax=order.tax, currency=order.currency) if order.tax else None
    session = gateway.create_checkout_session(
        currency=order.currency,
        params=checkout_params(
            order=order, lines=lines, urls=urls, coupon_id=coupon_id, tax_rate_id=tax_rate_id
        ),
        idempotency_key=f"kassa-checkout-{order.pk}-{attempt}",
    )
    if not lifecycle.order_attach_payment(
        order=order, attempt=attempt, checkout_session_id=session.id
    ):
        # A newer attempt for this order started while ours was being created: ours must not
        # stay payable next to it.
        logger.info("checkout for order %s superseded; expiring %s", order.pk, session.id)
        gateway.expire_checkout_session(currency=order.currency, session_id=session.id)
        raise CheckoutSuperseded(
            _("A newer checkout for this order was started in another window.")
        )
    return session


def buy_now(
    *, item: Item, visitor: Visitor, start: Callable[[Order, int, list[OrderLine]], Attempt]
) -> tuple[Order, Attempt]:
    """Buy one item now: a one-line order and its payment attempt (a Checkout Session or a
    PaymentIntent, whatever `start` makes of the order, the attempt number it was created in
    and its lines), or nothing at all if Stripe fails."""
    gateway.ensure_configured(item.currency)
    # Created already pending, in one transaction, and its lines handed on rather than read
    # back: at 64 clicks at once the CPU is the limit (make bench, tests/test_query_counts.py).
    order, lines = order_services.order_create_for_item(item=item, visitor=visitor)
    try:
        attempt = start(order, order.checkout_attempt, lines)
    except PaymentError:
        # The order existed only for this payment; leave nothing half-written behind.
        order.delete()
        raise
    return order, attempt


def buy_item(
    *, item: Item, visitor: Visitor, urls_for: Callable[[Order, int], ReturnUrls]
) -> tuple[Order, gateway.CheckoutSession]:
    """Buy one item now through Stripe Checkout."""
    return buy_now(
        item=item,
        visitor=visitor,
        start=lambda order, attempt, lines: checkout_start(
            order=order, urls_for=urls_for, claimed=attempt, lines=lines
        ),
    )


def checkout_cancel(*, order: Order, source: str, attempt: int | None = None) -> None:
    """The customer left the payment: close the attempt and give them their cart back.

    With `attempt` (Stripe's cancel link of one attempt), only if that is still the current
    one: an old tab's link must not cancel a payment started since.
    """
    if order.status != Order.Status.PENDING:
        return
    if attempt is not None and attempt != order.checkout_attempt:
        return
    close_previous(
        order=order,
        session_id=order.stripe_checkout_session_id,
        payment_intent_id=order.stripe_payment_intent_id,
    )
    lifecycle.order_reopen(order_id=order.pk, source=source, attempt=order.checkout_attempt)
