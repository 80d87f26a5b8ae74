"""`manage.py seed_demo_sales`: a month of demo orders for the dashboard.

A command of its own rather than `seed_demo --sales`: seed_demo belongs to the catalog, which
knows nothing of orders (imports flow one way), so the sales are made here, above orders and
payments, after the demo catalog (seed_demo) is loaded.
"""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kassa.backoffice.demo import ShopNotEmpty, seed_demo_sales


class Command(BaseCommand):
    help = (
        "Load the demo catalog if the catalog is empty, then a month of demo sales of it into "
        "a shop that has no orders yet (never touches a shop with orders)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="How many days (default 30).")
        parser.add_argument(
            "--seed", type=int, default=17, help="The random seed: the same seed, the same sales."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["days"] <= 366:
            raise CommandError("--days: from 1 to 366.")
        call_command("seed_demo", stdout=self.stdout)
        try:
            made = seed_demo_sales(days=options["days"], seed=options["seed"])
        except ShopNotEmpty as exc:
            self.stdout.write(str(exc))
            return
        self.stdout.write(f"Made {made} demo orders over {options['days']} days.")
