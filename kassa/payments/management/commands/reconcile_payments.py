"""Cron-safe catch-up for missed webhooks: `manage.py reconcile_payments`."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kassa.payments.reconcile import reconcile_pending


class Command(BaseCommand):
    help = "Ask Stripe about orders left pending and fulfil or reopen them. Safe to run any time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=15,
            help="Leave younger pending orders to their webhooks (default 15).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=200,
            help="Check at most this many payment attempts, oldest first (default 200).",
        )
        parser.add_argument(
            "--per-second",
            type=float,
            default=10.0,
            help="Ask Stripe at most this many times a second (default 10).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile_pending(
            older_than=timedelta(minutes=options["older_than_minutes"]),
            limit=options["limit"],
            per_second=options["per_second"],
        )
        self.stdout.write(
            f"checked {report.checked} pending orders: {len(report.paid)} paid, "
            f"{len(report.reopened)} reopened, {len(report.failed)} could not be checked"
        )
        if report.failed:
            self.stderr.write(f"not checked (Stripe failed): {report.failed}")
