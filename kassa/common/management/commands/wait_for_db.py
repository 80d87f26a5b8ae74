"""Wait until the database accepts connections: a container may start before its database."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, connection


class Command(BaseCommand):
    help = "Wait (up to --timeout seconds) until the default database accepts connections."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=60.0)

    def handle(self, *args: Any, **options: Any) -> None:
        timeout: float = options["timeout"]
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection.ensure_connection()
            except OperationalError as exc:
                if time.monotonic() >= deadline:
                    # psycopg's message names host and port, never the password.
                    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
                    raise CommandError(
                        f"The database is unreachable after {timeout:g}s: {reason}"
                    ) from exc
                self.stdout.write("Waiting for the database...")
                time.sleep(1)
            else:
                connection.close()
                self.stdout.write("The database is ready.")
                return
