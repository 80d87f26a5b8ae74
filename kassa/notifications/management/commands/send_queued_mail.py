"""manage.py send_queued_mail: send every mail that is due now, in this process, then exit
(for cron, or to drain the queue by hand when no worker runs)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from kassa.notifications.models import Mail
from kassa.notifications.sending import send
from kassa.notifications.tasks import retry


class Command(BaseCommand):
    help = "Send the mail that is due now, then exit."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        due = Mail.objects.filter(
            Q(state=Mail.State.QUEUED, next_attempt_at__lte=now)
            | Q(state=Mail.State.SENDING, lease_until__lt=now)
        ).order_by("pk")
        outcomes: dict[str, int] = {}
        for pk in due.values_list("pk", flat=True):
            outcome = send(mail_id=pk, retry=retry)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(summary or "nothing due")
