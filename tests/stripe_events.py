"""Stripe events for tests, signed exactly as Stripe signs webhooks."""

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


def event(type_: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2026-10-28.endive",
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
