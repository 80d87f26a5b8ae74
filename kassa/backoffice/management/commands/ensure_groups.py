"""`manage.py ensure_groups`: the admin's "Owner" and "Staff" groups; safe to run every start."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import IntegrityError

from kassa.backoffice.roles import ensure_groups


class Command(BaseCommand):
    help = (
        'Create the "Owner" and "Staff" groups with their permissions if missing (see '
        "docs/back-office.md); --reset puts their permissions back to the shop's defaults."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Set both groups' permissions to the defaults, undoing changes made since.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = ensure_groups(reset=options["reset"])
        except IntegrityError:  # another replica made them at the same moment
            counts = ensure_groups(reset=options["reset"])
        for name, count in counts.items():
            self.stdout.write(f"Group {name!r}: {count} permissions.")
