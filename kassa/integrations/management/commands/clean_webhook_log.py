"""manage.py clean_webhook_log: remove old outgoing webhook events whose deliveries have all
ended (delivered or given up), with their delivery log; run it daily, as clearsessions."""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Exists, OuterRef
from django.utils import timezone

from kassa.integrations.models import OutgoingEvent, WebhookDelivery


class Command(BaseCommand):
    help = "Remove webhook events (and their delivery log) older than WEBHOOKS_LOG_DAYS."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days (default: WEBHOOKS_LOG_DAYS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = settings.WEBHOOKS_LOG_DAYS if options["days"] is None else options["days"]
        before = timezone.now() - timedelta(days=max(days, 0))
        still_owed = WebhookDelivery.objects.filter(
            event=OuterRef("pk"),
            state__in=[WebhookDelivery.State.PENDING, WebhookDelivery.State.SENDING],
        )
        old = OutgoingEvent.objects.filter(created_at__lt=before).filter(~Exists(still_owed))
        removed = 0
        # In slices: a log of millions of rows is not one long transaction.
        while True:
            batch = list(old.values_list("pk", flat=True)[:1000])
            if not batch:
                break
            OutgoingEvent.objects.filter(pk__in=batch).delete()
            removed += len(batch)
        self.stdout.write(f"{removed} webhook events older than {days} days removed")
