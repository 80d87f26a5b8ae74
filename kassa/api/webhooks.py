"""Outgoing webhooks' bodies in the API's shapes: an envelope (id, type, time) around the object
as the API presents it. The presenters are registered with kassa.integrations, which writes the
events, and the envelopes are described under `webhooks` in /api/v1/openapi.json."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import BaseModel, Field

from kassa.api.schemas import ItemOut, OrderOut, ReturnOut, item_out, order_out, return_out
from kassa.catalog.models import Item
from kassa.customers.models import ReturnRequest
from kassa.integrations import events
from kassa.integrations.models import EventType
from kassa.orders.models import Order


class _Envelope(Schema):
    id: str = Field(
        description="The event's id (evt_…), also sent as `webhook-id`: the same on "
        "every retry, so a receiver handles it once."
    )
    type: str = Field(description="The event's type, e.g. order.paid.")
    timestamp: datetime = Field(description="When it happened (RFC 3339, UTC).")


class OrderEvent(_Envelope):
    data: OrderOut = Field(description="The order as the API presents it, at the event's time.")


class ItemEvent(_Envelope):
    data: ItemOut = Field(description="The item as the API presents it, at the event's time.")


class ReturnEvent(_Envelope):
    data: ReturnOut = Field(description="The return request as the API presents it.")


ENVELOPES: dict[str, type[BaseModel]] = {
    "order": OrderEvent,
    "item": ItemEvent,
    "return": ReturnEvent,
}


def _order(pk: int) -> dict[str, Any]:
    return order_out(Order.objects.get(pk=pk)).model_dump(mode="json")


def _item(pk: int) -> dict[str, Any]:
    return item_out(Item.objects.get(pk=pk)).model_dump(mode="json")


def _return(pk: int) -> dict[str, Any]:
    return return_out(ReturnRequest.objects.get(pk=pk)).model_dump(mode="json")


def connect() -> None:
    events.register("order", _order)
    events.register("item", _item)
    events.register("return", _return)


def describe(schema: dict[str, Any]) -> None:
    """Add OpenAPI 3.1's `webhooks`: each event type a POST with its envelope's schema."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    webhooks: dict[str, Any] = {}
    for event_type in EventType:
        envelope = ENVELOPES.get(events.OBJECT_KIND[event_type])
        if envelope is None:
            continue  # an object the API does not present
        found = envelope.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in found.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault(envelope.__name__, found)
        webhooks[str(event_type)] = {
            "post": {
                "summary": str(event_type.label),
                "description": "Signed by the Standard Webhooks spec: `webhook-id`, "
                "`webhook-timestamp`, `webhook-signature` (docs/webhooks.md).",
                "operationId": f"webhook_{str(event_type).replace('.', '_')}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{envelope.__name__}"}
                        }
                    },
                },
                "responses": {
                    "200": {"description": "Any 2xx: received. Anything else is retried."}
                },
            }
        }
    schema["webhooks"] = webhooks
