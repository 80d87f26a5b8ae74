"""manage.py deliver_webhooks: attempt every webhook delivery that is due now, in this process,
then exit (for cron, or to drain the queue by hand when no worker runs)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from kassa.integrations.delivery import send
from kassa.integrations.models import WebhookDelivery
from kassa.integrations.tasks import QUEUE

State = WebhookDelivery.State


class Command(BaseCommand):
    help = "Attempt the webhook deliveries that are due now, then exit."

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes: dict[str, int] = {}
        # Again while one delivery hands on to the next of its subject.
        for _ in range(100):
            now = timezone.now()
            due = WebhookDelivery.objects.filter(endpoint__enabled=True).filter(
                Q(state=State.PENDING, next_attempt_at__lte=now)
                | Q(state=State.SENDING, lease_until__lt=now)
            )
            attempted = 0
            for pk in due.order_by("event_id").values_list("pk", flat=True):
                outcome = send(delivery_id=pk, queue=QUEUE)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                attempted += outcome not in ("waiting", "skipped", "gone")
            if not attempted:
                break
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(summary or "nothing due")
