"""Events as Stripe sends them: signed with the webhook secret, POSTed to the shop's
/stripe/webhook/, retried a few times when the shop does not answer 2xx."""

import hashlib
import hmac
import json
import logging
import threading
import time
from typing import Any

import urllib3
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from kassa.demo_stripe.store import new_id, save
from kassa.stripe_api.client import API_VERSION

logger = logging.getLogger(__name__)

_pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=5, read=30))
# Waits between tries, as Stripe waits longer and longer (its own go on for three days).
RETRY_DELAYS = (1.0, 3.0, 10.0)
# Deliveries still under way on threads of their own (tests wait for them).
BACKGROUND: list[threading.Thread] = []


def signature(payload: bytes, secret: str, at: int) -> str:
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def build(type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    event = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "type": type_,
        "data": {"object": obj},
        "delivery": {"status": "pending", "tries": []},
    }
    return save("event", event)


def deliver(event: dict[str, Any]) -> bool:
    """One try: True if the shop answered 2xx. The try is kept on the event's row."""
    body = {key: value for key, value in event.items() if key != "delivery"}
    payload = json.dumps(body).encode()
    url = f"{settings.SHOP_DEMO_URL.rstrip('/')}/stripe/webhook/"
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": signature(payload, settings.STRIPE_WEBHOOK_SECRET, int(time.time())),
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) kassa-demo",
    }
    try:
        response = _pool.request("POST", url, body=payload, headers=headers)
        status, answer = response.status, response.data[:200].decode(errors="replace")
    except urllib3.exceptions.HTTPError as exc:
        status, answer = 0, type(exc).__name__
    ok = 200 <= status < 300
    logger.info("demo stripe event %s %s delivered: status=%s", event["id"], event["type"], status)
    delivery = event.setdefault("delivery", {"status": "pending", "tries": []})
    delivery["tries"].append({"at": int(time.time()), "status": status, "answer": answer})
    delivery["status"] = "delivered" if ok else "failed"
    try:
        save("event", event)
    except DatabaseError:  # only the dashboard's record of the try: the event went
        logger.warning("demo stripe event %s: delivery not recorded", event["id"])
    return ok


def deliver_with_retries(event: dict[str, Any]) -> bool:
    if deliver(event):
        return True
    for delay in RETRY_DELAYS:
        time.sleep(delay)
        if deliver(event):
            return True
    return False


def send_now(type_: str, obj: dict[str, Any]) -> bool:
    """The event, delivered before the customer's browser is sent back to the shop (Stripe's
    are usually there first too); later tries in the background if the first fails."""
    event = build(type_, obj)
    if deliver(event):
        return True
    _in_background(event)
    return False


def send_later(type_: str, obj: dict[str, Any]) -> None:
    """The event, delivered once the stand-in's change is committed, on a thread of its own:
    the shop's call that caused it may still hold the rows the event's handler needs."""
    event = build(type_, obj)
    transaction.on_commit(lambda: _in_background(event))


def _in_background(event: dict[str, Any]) -> None:
    def run() -> None:
        try:
            deliver_with_retries(event)
        finally:
            connection.close()  # the thread's own connection, opened by its saves

    thread = threading.Thread(target=run, daemon=True, name=f"demo-event-{event['id']}")
    thread.start()
    BACKGROUND.append(thread)
    BACKGROUND[:] = [running for running in BACKGROUND if running.is_alive()]
