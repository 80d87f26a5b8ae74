"""Stripe events: recorded once each, then dispatched to the fulfilment function they call for."""

import logging
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kassa.metrics import instruments as metrics
from kassa.payments import fulfilment
from kassa.payments.models import WebhookEvent
from kassa.stripe_api.results import checkout_session as checkout_session_from_event
from kassa.stripe_api.results import payment_intent as payment_intent_from_event

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], str], bool]


def _session_completed(data: dict[str, Any], source: str) -> bool:
    # A completed session with an async payment method is not paid yet: fulfil only if paid.
    return fulfilment.fulfil_checkout_session(checkout_session_from_event(data), source=source)


def _session_closed(data: dict[str, Any], source: str) -> bool:
    return fulfilment.checkout_session_closed(checkout_session_from_event(data), source=source)


def _intent_succeeded(data: dict[str, Any], source: str) -> bool:
    return fulfilment.fulfil_payment_intent(payment_intent_from_event(data), source=source)


def _intent_failed(data: dict[str, Any], source: str) -> bool:
    # The customer can try another card on the same PaymentIntent; the order stays as it is.
    error = (data.get("last_payment_error") or {}).get("code", "unknown")
    logger.info("payment intent %s failed: %s", data.get("id"), error)
    return False


def _charge_refunded(data: dict[str, Any], source: str) -> bool:
    return fulfilment.record_refund(
        payment_intent_id=str(data.get("payment_intent") or ""),
        amount_refunded=int(data.get("amount_refunded") or 0),
        source=source,
    )


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.async_payment_failed": _session_closed,
    "checkout.session.expired": _session_closed,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
}


def _record(event: dict[str, Any]) -> WebhookEvent:
    defaults = {
        "type": str(event.get("type", "")),
        "livemode": bool(event.get("livemode")),
        "payload": event,
    }
    try:
        with transaction.atomic():
            record, _ = WebhookEvent.objects.get_or_create(
                event_id=str(event["id"]), defaults=defaults
            )
    except IntegrityError:  # the same event, delivered twice at once
        record = WebhookEvent.objects.get(event_id=str(event["id"]))
    return record


def receive(event: dict[str, Any]) -> WebhookEvent:
    """Store `event`, then handle it once. A failure is kept on the record (outcome FAILED)."""
    record = _record(event)
    with transaction.atomic():
        # Concurrent deliveries of one event queue here; the later ones find it handled.
        record = WebhookEvent.objects.select_for_update().get(pk=record.pk)
        if record.outcome in (WebhookEvent.Outcome.PROCESSED, WebhookEvent.Outcome.IGNORED):
            metrics.webhook_event(type_=_type_label(record.type), outcome="duplicate")
            return record
        handler = HANDLERS.get(record.type)
        record.attempts += 1
        record.handled_at = timezone.now()
        if handler is None:
            record.outcome = WebhookEvent.Outcome.IGNORED
        else:
            try:
                with transaction.atomic():
                    data = event.get("data", {}).get("object", {})
                    changed = handler(data, f"stripe event {record.event_id}")
                record.outcome = WebhookEvent.Outcome.PROCESSED
                record.error = ""
                logger.info("stripe event %s %s: changed=%s", record.type, record.event_id, changed)
            except Exception:
                record.outcome = WebhookEvent.Outcome.FAILED
                record.error = traceback.format_exc()
                logger.exception("stripe event %s %s failed", record.type, record.event_id)
        record.save()
        transaction.on_commit(
            partial(
                metrics.webhook_event,
                type_=_type_label(record.type),
                outcome=str(record.outcome),
                created=event.get("created"),
            )
        )
    return record


def _type_label(type_: str) -> str:
    """The event's type for the metrics: one the shop handles, else "other" (a fixed set)."""
    return type_ if type_ in HANDLERS else "other"
