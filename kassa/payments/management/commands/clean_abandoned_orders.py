"""Cron-safe housekeeping: `manage.py clean_abandoned_orders --older-than 30d`."""

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kassa.payments.abandoned import abandoned_orders, remove_abandoned_orders

UNITS = {"d": "days", "h": "hours", "w": "weeks"}
# A cart younger than a day may be someone's open tab; nothing here needs it gone sooner.
SHORTEST = timedelta(days=1)


def age(text: str) -> timedelta:
    """'30d', '36h' or '2w' as a timedelta; anything else, or under a day, is refused."""
    match = re.fullmatch(r"([0-9]{1,5})([dhw])", text.strip())
    if match is None:
        raise CommandError(
            f"--older-than {text!r}: write a whole number of days, hours or weeks, e.g. 30d, "
            "36h or 2w."
        )
    span = timedelta(**{UNITS[match[2]]: int(match[1])})
    if span < SHORTEST:
        raise CommandError(f"--older-than {text!r}: at least 1d (24h).")
    return span


class Command(BaseCommand):
    help = (
        "Remove carts and unpaid orders untouched for longer than --older-than, with their "
        "closed payment attempts. Never removes a paid order, one being paid, or one with a "
        "payment attempt that may still be paid. Safe to run any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            required=True,
            help="How long an order must have been untouched: e.g. 30d, 36h, 2w (at least 1d).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; remove nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - age(options["older_than"])
        if options["dry_run"]:
            count = abandoned_orders(cutoff=cutoff).count()
            self.stdout.write(
                f"would remove {count} abandoned orders untouched since {cutoff:%Y-%m-%d %H:%M} UTC"
            )
            return
        removed = remove_abandoned_orders(cutoff=cutoff)
        self.stdout.write(
            f"removed {removed.orders} abandoned orders untouched since "
            f"{cutoff:%Y-%m-%d %H:%M} UTC, with {removed.attempts} closed payment attempts"
        )
