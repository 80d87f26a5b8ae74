"""What the order lifecycle's signals mean for gift cards, in the transaction of the change."""

import logging
from typing import Any

from kassa.common.notices import notify_staff
from kassa.giftcards import issuing, ledger, paying
from kassa.giftcards.errors import InsufficientBalance
from kassa.giftcards.models import GiftCardUse
from kassa.orders import signals
from kassa.orders.models import Order, OrderLine

logger = logging.getLogger(__name__)


def order_paid(sender: Any, *, order_id: int, **kwargs: Any) -> None:
    # Two indexed looks for most orders (no card applied, no card bought): every paid order
    # passes here, in the webhook's transaction.
    if GiftCardUse.objects.filter(order_id=order_id).exists():
        _settle(order_id)
    lines = list(
        OrderLine.objects.filter(order_id=order_id, item__is_gift_card=True).select_related("item")
    )
    if lines:
        issuing.issue_bought(order=Order.objects.get(pk=order_id), lines=lines)


def _settle(order_id: int) -> None:
    order = Order.objects.get(pk=order_id)
    try:
        paying.settle_paid(order=order)
    except InsufficientBalance:
        # Money moved for less than the order, trusting a card that has been spent since.
        logger.warning("order %s: paid after its gift card hold lapsed, card spent", order_id)
        notify_staff(
            key=f"gift-card-short:{order_id}",
            subject=f"Order #{order_id} was paid trusting a gift card that is spent",
            body=(
                f"Order #{order_id} was paid after its gift card hold had lapsed, and the card "
                "no longer has the amount Stripe was charged less. Decide with the customer; "
                "the order's gift card entries are in the admin under Gift cards."
            ),
        )


def order_cancelled(sender: Any, *, order_id: int, **kwargs: Any) -> None:
    if GiftCardUse.objects.filter(order_id=order_id).exists():
        ledger.release(order=Order.objects.get(pk=order_id), note="payment closed unpaid")


def connect() -> None:
    signals.order_paid.connect(order_paid, dispatch_uid="giftcards.order_paid")
    signals.order_cancelled.connect(order_cancelled, dispatch_uid="giftcards.order_cancelled")
