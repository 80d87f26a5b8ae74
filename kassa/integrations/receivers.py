"""What causes events: the order lifecycle's signals, stock movements and item saves, each
heard inside the transaction of its change, so the event exists exactly when the change does."""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save

from kassa.catalog.models import Item
from kassa.integrations.events import item_subject, order_subject, webhook_emit
from kassa.integrations.models import EventType
from kassa.orders import signals, stock


def _order_event(event_type: EventType) -> Any:
    def receiver(sender: Any, *, order_id: int, **kwargs: Any) -> None:
        webhook_emit(event_type=event_type, object_id=order_id, subject=order_subject(order_id))

    return receiver


_ORDER_SIGNALS = {
    EventType.ORDER_PAID: signals.order_paid,
    EventType.ORDER_REFUNDED: signals.order_refunded,
    EventType.ORDER_SHIPPED: signals.order_shipped,
    EventType.ORDER_DELIVERED: signals.order_delivered,
    EventType.ORDER_CANCELLED: signals.order_cancelled,
}
_receivers = {event_type: _order_event(event_type) for event_type in _ORDER_SIGNALS}


def availability_changed(
    sender: Any, *, item_id: int, before: int, after: int, **kwargs: Any
) -> None:
    """Sold out when the last unit goes; low when the count first drops below SHOP_LOW_STOCK
    (the threshold the item page's "Only N left" uses)."""
    if after >= before:
        return
    if after == 0:
        event_type = EventType.STOCK_SOLD_OUT
    elif after < settings.SHOP_LOW_STOCK <= before:
        event_type = EventType.STOCK_LOW
    else:
        return
    webhook_emit(event_type=event_type, object_id=item_id, subject=item_subject(item_id))


def item_saved(sender: Any, *, instance: Item, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata
        return
    webhook_emit(
        event_type=EventType.PRODUCT_UPDATED,
        object_id=instance.pk,
        subject=item_subject(instance.pk),
    )


def connect() -> None:
    for event_type, signal in _ORDER_SIGNALS.items():
        signal.connect(_receivers[event_type], dispatch_uid=f"integrations.{event_type}")
    stock.availability_changed.connect(
        availability_changed, dispatch_uid="integrations.availability_changed"
    )
    post_save.connect(item_saved, sender=Item, dispatch_uid="integrations.item_saved")
