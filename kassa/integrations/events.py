"""Writing events: the one function the shop calls when something happened that endpoints may
want to hear of, inside the transaction that made it happen.

The event's body carries the object as the API presents it. Those presenters live in the web
layer above this one, so it registers them here (kassa.api's ready()): `register("order", …)`
gives the JSON of order `pk`. A new kind of object (a return) registers its own presenter and
calls `webhook_emit` with one of EventType's types.
"""

import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone, translation

from kassa.integrations.models import EventType, OutgoingEvent, WebhookDelivery, WebhookEndpoint
from kassa.integrations.tasks import deliver

logger = logging.getLogger(__name__)
Presenter = Callable[[int], dict[str, Any]]
_presenters: dict[str, Presenter] = {}

# The kind of object each type's `data` is (its presenter's name).
OBJECT_KIND = {
    EventType.ORDER_PAID: "order",
    EventType.ORDER_REFUNDED: "order",
    EventType.ORDER_SHIPPED: "order",
    EventType.ORDER_DELIVERED: "order",
    EventType.ORDER_CANCELLED: "order",
    EventType.RETURN_REQUESTED: "return",
    EventType.RETURN_DECIDED: "return",
    EventType.PRODUCT_UPDATED: "item",
    EventType.STOCK_LOW: "item",
    EventType.STOCK_SOLD_OUT: "item",
}


def register(kind: str, presenter: Presenter) -> None:
    _presenters[kind] = presenter


def order_subject(order_id: int) -> str:
    """The subject of every event about order `order_id` (its returns' too): they reach each
    endpoint in the order they happened."""
    return f"order:{order_id}"


def item_subject(item_id: int) -> str:
    return f"item:{item_id}"


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def webhook_emit(*, event_type: str, object_id: int, subject: str) -> OutgoingEvent | None:
    """Tell every enabled endpoint that asked for `event_type` that it happened to object
    `object_id` (an order, an item, a return): one event row and one delivery per endpoint,
    written in the caller's transaction, handed to the worker when it commits. None when no
    endpoint wants it (nothing is written)."""
    event_type = EventType(event_type)
    endpoints = [e for e in WebhookEndpoint.objects.filter(enabled=True) if e.wants(event_type)]
    if not endpoints:
        return None
    kind = OBJECT_KIND[event_type]
    presenter = _presenters.get(kind)
    if presenter is None:  # a type listed before its objects' presenter exists
        logger.error("no presenter for %s objects: %s is not written", kind, event_type)
        return None
    now = timezone.now()
    event_id = new_event_id()
    try:
        # In a savepoint: a presenter's fault rolls back its own queries only. The change that
        # caused the event (a payment Stripe took) is recorded all the same, and the fault is
        # logged with its traceback: an integration never stops the shop's own work.
        with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
            # Money formatted in the shop's language, whichever customer's request caused it.
            data = presenter(object_id)
    except Exception:
        logger.exception(
            "webhook event %s of %s %s could not be written", event_type, kind, object_id
        )
        return None
    body = json.dumps(
        {
            "id": event_id,
            "type": str(event_type),
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    with transaction.atomic():
        event = OutgoingEvent.objects.create(
            event_id=event_id, type=event_type, subject=subject[:60], body=body
        )
        give_up_at = now + timedelta(seconds=settings.WEBHOOKS_GIVE_UP_SECONDS)
        deliveries = [
            WebhookDelivery.objects.create(
                event=event,
                endpoint=endpoint,
                event_type=event_type,
                subject=event.subject,
                next_attempt_at=now,
                give_up_at=give_up_at,
            )
            for endpoint in endpoints
        ]
        for delivery in deliveries:
            deliver.enqueue(delivery.pk)
    return event
