"""Writes to orders. Every function is keyword-only and atomic."""

from django.db import transaction

from kassa.catalog.models import Item
from kassa.orders.models import Order, OrderLine
from kassa.orders.visitors import Visitor


@transaction.atomic
def order_create_for_item(*, item: Item, visitor: Visitor, quantity: int = 1) -> Order:
    """A one-line order for an immediate purchase ("Buy" on the item page)."""
    order = Order.objects.create(
        currency=item.currency, session_key=visitor.session_key, user_id=visitor.user_id
    )
    OrderLine.objects.create(order=order, item=item, quantity=quantity, unit_price=item.price)
    return order


@transaction.atomic
def order_begin_checkout(*, order: Order) -> int:
    """Freeze the order for a new checkout; returns the attempt number for idempotency keys."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    locked.checkout_attempt += 1
    locked.save(update_fields=["checkout_attempt", "updated_at"])
    order.checkout_attempt = locked.checkout_attempt
    return locked.checkout_attempt


@transaction.atomic
def order_mark_pending(*, order: Order, checkout_session_id: str) -> None:
    order.status = Order.Status.PENDING
    order.stripe_checkout_session_id = checkout_session_id
    order.save(update_fields=["status", "stripe_checkout_session_id", "updated_at"])
