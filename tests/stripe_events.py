"""Stripe events for tests, signed exactly as Stripe signs webhooks."""

import copy
import hashlib
import hmac
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

WEBHOOK_SECRET = "whsec_test_kassa_webhook_secret"


PINNED_VERSION = "2026-10-28.endive"


def event(
    type_: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    api_version: str = PINNED_VERSION,
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": api_version,
        "created": int(time.time()),
        "livemode": False,
        "type": type_,
        "data": {"object": obj},
    }


def signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def encode(evt: dict[str, Any]) -> bytes:
    return json.dumps(evt).encode()


def post_event(
    evt: dict[str, Any], *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> "_MonkeyPatchedWSGIResponse":
    """POST `evt` to the shop's webhook, signed as Stripe signs it (a fresh client each time)."""
    payload = encode(evt)
    return Client().post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload, secret=secret, timestamp=timestamp)},
    )


def session_in_version(session: dict[str, Any], version: str) -> dict[str, Any]:
    """A Checkout Session (in the pinned version's shape, as the fake makes it) as Stripe
    renders it in an older API version, for an endpoint created before the moves: shipping
    under `shipping_details` before 2025-03-31.basil, and under `shipping`, with a top-level
    `shipping_rate` and no `shipping_cost`, before 2022-08-01."""
    old = copy.deepcopy(session)
    if version >= "2025-03-31":
        return old
    collected = old.pop("collected_information", None) or {}
    old["shipping_details"] = collected.get("shipping_details")
    if version >= "2022-08-01":
        return old
    old["shipping"] = old.pop("shipping_details")
    cost = old.pop("shipping_cost", None) or {}
    old["shipping_rate"] = cost.get("shipping_rate")
    return old
