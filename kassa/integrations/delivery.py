"""Delivering one event to one endpoint, the worker's side (kassa.integrations.events writes
them):

    claim the delivery (waiting → being sent, with a lease), commit,
    POST the signed body (kassa.integrations.transport), outside any transaction,
    log the attempt and mark it delivered, or schedule the next try, commit.

A worker killed mid-send leaves the delivery "being sent" until its lease runs out, and a
worker sends it again with the same `webhook-id`: delivered at least once, never lost. The
receiver tells repeats apart by that id.

Order: deliveries about one subject (an order, an item) go to each endpoint in the order their
events happened. One waits while an earlier one of its subject is not yet delivered or given
up, and the delivery that ends first hands the worker the next of its subject.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone

from kassa.common.notices import notify_staff
from kassa.integrations import signing, transport
from kassa.integrations.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
State = WebhookDelivery.State
OPEN = (State.PENDING, State.SENDING)


@dataclass(frozen=True)
class Queue:
    """How the worker is handed a delivery: now, or at a time (kassa.integrations.tasks)."""

    now: Callable[[int], None]
    later: Callable[[int, datetime], None]


def backoff(attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts`: 5 s, 5 min, 30 min, 2 h, 5 h, then
    10 h each (WEBHOOKS_RETRY_SECONDS; the last repeats)."""
    schedule = settings.WEBHOOKS_RETRY_SECONDS
    return timedelta(seconds=schedule[min(max(attempts, 1), len(schedule)) - 1])


def _claim(delivery_id: int) -> tuple[WebhookDelivery | None, str]:
    """Take the delivery for sending if it is due, its endpoint enabled, nobody is sending it
    (or its sender's lease ran out) and no earlier one of its subject is open."""
    now = timezone.now()
    due = Q(state=State.PENDING, next_attempt_at__lte=now) | Q(
        state=State.SENDING, lease_until__lt=now
    )
    lease = now + timedelta(seconds=settings.WEBHOOKS_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        candidate = (
            WebhookDelivery.objects.filter(pk=delivery_id)
            .values("endpoint_id", "subject", "event_id")
            .first()
        )
        if candidate is None:
            return None, "gone"
        earlier = WebhookDelivery.objects.filter(
            endpoint_id=candidate["endpoint_id"],
            subject=candidate["subject"],
            event_id__lt=candidate["event_id"],
            state__in=OPEN,
        )
        if earlier.exists():
            return None, "waiting"  # the earlier one hands it on when it ends
        taken = WebhookDelivery.objects.filter(due, pk=delivery_id, endpoint__enabled=True).update(
            state=State.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
    if not taken:
        return None, "skipped"
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    return delivery, "claimed"


def send(*, delivery_id: int, queue: Queue) -> str:
    """Attempt delivery `delivery_id` if it is due; what became of it: "delivered", "retry",
    "failed" (given up), or "waiting" / "skipped" / "gone" when it was not attempted."""
    delivery, why = _claim(delivery_id)
    if delivery is None:
        return why
    event, endpoint = delivery.event, delivery.endpoint
    started = timezone.now()
    body = event.body.encode()
    answer = transport.post(
        endpoint.url,
        body=body,
        headers=signing.headers(
            endpoint=endpoint, message_id=event.event_id, timestamp=started, body=body
        ),
    )
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            started_at=started,
            status=answer.status,
            duration_ms=int(answer.seconds * 1000),
            response=answer.body,
            error=answer.error,
        )
        if answer.ok:
            outcome = _delivered(delivery, answer, queue=queue)
        else:
            outcome = _failed(delivery, answer, started=started, queue=queue)
    log = logger.info if answer.ok else logger.warning
    log(
        "webhook %s (%s) to endpoint %s: %s, attempt %s%s",
        event.event_id,
        event.type,
        endpoint.pk,
        outcome,
        delivery.attempts,
        f": {answer.error}" if answer.error else "",
    )
    return outcome


def _delivered(delivery: WebhookDelivery, answer: transport.Answer, *, queue: Queue) -> str:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=State.DELIVERED,
        delivered_at=timezone.now(),
        lease_until=None,
        next_attempt_at=None,
        last_status=answer.status,
        last_error="",
    )
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, failing_since__isnull=False).update(
        failing_since=None
    )
    _hand_on(delivery, queue=queue)
    return "delivered"


def _failed(
    delivery: WebhookDelivery, answer: transport.Answer, *, started: datetime, queue: Queue
) -> str:
    now = timezone.now()
    when = min(now + backoff(delivery.attempts), delivery.give_up_at)
    gave_up = now >= delivery.give_up_at
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=State.FAILED if gave_up else State.PENDING,
        lease_until=None,
        next_attempt_at=None if gave_up else when,
        last_status=answer.status,
        last_error=answer.error,
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if endpoint.failing_since is None:
        endpoint.failing_since = started
        endpoint.save(update_fields=["failing_since", "updated_at"])
    limit = timedelta(seconds=settings.WEBHOOKS_GIVE_UP_SECONDS)
    # Given up on, with nothing delivered to the endpoint since this delivery's first try:
    # the endpoint failed for the whole limit too.
    first_try = DeliveryAttempt.objects.filter(
        delivery=delivery, started_at__gte=delivery.give_up_at - limit
    ).aggregate(first=Min("started_at"))["first"]
    failed_throughout = first_try is not None and endpoint.failing_since <= first_try
    if endpoint.enabled and (
        now - endpoint.failing_since >= limit or (gave_up and failed_throughout)
    ):
        _disable(endpoint, why=answer.error)
        return "failed"
    if gave_up:
        _hand_on(delivery, queue=queue)
        return "failed"
    queue.later(delivery.pk, when)
    return "retry"


def _hand_on(delivery: WebhookDelivery, *, queue: Queue) -> None:
    """The next waiting delivery of the same subject and endpoint may go now."""
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            subject=delivery.subject,
            event_id__gt=delivery.event_id,
            state=State.PENDING,
        )
        .order_by("event_id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        queue.now(following)


def _disable(endpoint: WebhookEndpoint, *, why: str) -> None:
    """Switch off an endpoint that failed for the whole limit: what it was still owed is given
    up (staff can send it again from the delivery log once it works), and staff are told."""
    now = timezone.now()
    limit = settings.WEBHOOKS_GIVE_UP_SECONDS
    span = f"{limit / 86400:g} days" if limit >= 86400 else f"{limit:g} seconds"
    endpoint.enabled = False
    endpoint.disabled_reason = f"Every delivery failed for {span} (last: {why})"[:300]
    endpoint.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    given_up = WebhookDelivery.objects.filter(endpoint=endpoint, state__in=OPEN).update(
        state=State.FAILED, lease_until=None, next_attempt_at=None, last_error="endpoint disabled"
    )
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, endpoint.disabled_reason)
    notify_staff(
        key=f"webhook-endpoint-disabled:{endpoint.pk}:{int(now.timestamp())}",
        subject=f"Webhook endpoint {endpoint} was switched off",
        body=(
            f"Every delivery to {endpoint.url} failed for {span}, so the shop stopped "
            f"sending to it; {given_up} undelivered events were given up. Last error: {why}\n\n"
            "Fix the receiver, enable the endpoint again in the admin (Webhook endpoints), "
            "and send what it missed from Webhook deliveries (filter: failed; action: send "
            "again)."
        ),
    )


def delivery_resend(*, delivery_ids: list[int], queue: Queue) -> int:
    """Staff send deliveries again (the same event, the same `webhook-id`), retried for
    another 3 days if need be. Deliveries to a disabled endpoint, or being sent, are left.
    How many were queued."""
    now = timezone.now()
    give_up_at = now + timedelta(seconds=settings.WEBHOOKS_GIVE_UP_SECONDS)
    with transaction.atomic():
        chosen = list(
            WebhookDelivery.objects.filter(pk__in=delivery_ids, endpoint__enabled=True)
            .exclude(state=State.SENDING)
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=chosen).update(
            state=State.PENDING, next_attempt_at=now, give_up_at=give_up_at, lease_until=None
        )
        for pk in chosen:
            queue.now(pk)
    return len(chosen)


def deliveries_requeue_stalled(*, queue: Queue) -> int:
    """Give the worker each delivery that is due but may have no task: one whose worker was
    killed mid-send (lease over), or one whose task was lost. Only the first open one of each
    subject: the rest wait for it. A second task for a delivery is harmless (one claim wins)."""
    now = timezone.now()
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        subject=OuterRef("subject"),
        event_id__lt=OuterRef("event_id"),
        state__in=OPEN,
    )
    stalled = (
        WebhookDelivery.objects.filter(endpoint__enabled=True)
        .filter(
            Q(state=State.SENDING, lease_until__lt=now)
            | Q(state=State.PENDING, next_attempt_at__lte=now - timedelta(minutes=1))
        )
        .filter(~Exists(earlier))
        .values_list("pk", flat=True)
    )
    count = 0
    with transaction.atomic():
        for pk in stalled:
            queue.now(pk)
            count += 1
    if count:
        logger.info("%s webhook deliveries given to the worker again", count)
    return count
