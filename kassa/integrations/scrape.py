"""The webhooks' metrics, read from the database when /metrics is asked: the worker that
delivers is another process, so its own counters would never reach the web's /metrics."""

from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kassa.integrations.models import WebhookDelivery

State = WebhookDelivery.State


class WebhookCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._collect()
        except DatabaseError:  # the database away for a moment: the other metrics still go
            return

    def _collect(self) -> Iterator[GaugeMetricFamily]:
        deliveries = GaugeMetricFamily(
            "kassa_webhook_deliveries",
            "Outgoing webhook deliveries in the log, by event type and outcome (delivered, "
            "waiting, being sent, failed: given up); the log keeps WEBHOOKS_LOG_DAYS.",
            labels=["type", "outcome"],
        )
        rows = WebhookDelivery.objects.values("event_type", "state").annotate(count=Count("id"))
        for row in rows.order_by():
            deliveries.add_metric([row["event_type"], row["state"]], row["count"])
        yield deliveries
        oldest = WebhookDelivery.objects.filter(state__in=[State.PENDING, State.SENDING]).aggregate(
            at=Min("event__created_at")
        )["at"]
        age = GaugeMetricFamily(
            "kassa_webhook_oldest_undelivered_seconds",
            "Age of the oldest event an endpoint has not received yet (0: none waiting).",
        )
        age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield age
