"""Stripe events: recorded once each, then dispatched to the fulfilment function they call for."""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from kassa.metrics import instruments as metrics
from kassa.payments import fulfilment, refunds
from kassa.payments.methods import all_methods
from kassa.payments.methods.base import EventReader
from kassa.payments.models import WebhookEvent
from kassa.stripe_api import results
from kassa.stripe_api.webhooks import OLDEST_VERSION_READ, version_gap

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], str], bool]


def _applied(read: EventReader) -> Handler:
    """A handler for one kind's event: its object read as that kind's, then applied."""

    def handle(data: dict[str, Any], source: str) -> bool:
        return fulfilment.applied(read(data), source=source)

    return handle


def _charge_refunded(data: dict[str, Any], source: str) -> bool:
    # The charge says how much was refunded, pending refunds included, not which refund did
    # what: the payment's refunds are read from Stripe and recorded one by one.
    return refunds.refunds_reported(
        payment_intent_id=str(data.get("payment_intent") or ""), source=source
    )


def _refund_event(data: dict[str, Any], source: str) -> bool:
    if not isinstance(data.get("id"), str) or not isinstance(data.get("amount"), int):
        return False  # not a refund of Stripe's shape: nothing to record
    return refunds.refund_reported(results.refund(data), source=source)


HANDLERS: dict[str, Handler] = {
    **{type_: _applied(read) for method in all_methods() for type_, read in method.events.items()},
    "charge.refunded": _charge_refunded,
    # A refund's own events: made (also in the Dashboard), its state changed, failed.
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "refund.failed": _refund_event,
    "charge.refund.updated": _refund_event,
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


@dataclass(frozen=True)
class Received:
    record: WebhookEvent
    # Handled before (a retry or a replay of the same event id): nothing was done this time.
    duplicate: bool = False


def receive(event: dict[str, Any]) -> Received:
    """Store `event`, then handle it once. A failure is kept on the record (outcome FAILED)."""
    record = _record(event)
    with transaction.atomic():
        # Concurrent deliveries of one event queue here; the later ones find it handled.
        record = WebhookEvent.objects.select_for_update().get(pk=record.pk)
        if record.outcome in (WebhookEvent.Outcome.PROCESSED, WebhookEvent.Outcome.IGNORED):
            metrics.webhook_event(type_=_type_label(record.type), outcome="duplicate")
            return Received(record, duplicate=True)
        handler = HANDLERS.get(record.type)
        _log_version(event, handled=handler is not None)
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
    return Received(record)


def _log_version(event: dict[str, Any], *, handled: bool) -> None:
    """Say so when an event the shop reads comes in another API version than the pinned one:
    its objects are read in either shape, but the endpoint's version is best set to ours."""
    gap = version_gap(event) if handled else ""
    if gap:
        version = str(event.get("api_version") or "")
        level = logging.ERROR if version[:10] < OLDEST_VERSION_READ else logging.WARNING
        logger.log(level, "stripe event %s %s %s", event.get("type"), event.get("id"), gap)


def _type_label(type_: str) -> str:
    """The event's type for the metrics: one the shop handles, else "other" (a fixed set)."""
    return type_ if type_ in HANDLERS else "other"
