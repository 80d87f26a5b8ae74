"""`manage.py migrate_locked`: `migrate`, then `ensure_superuser`, one process at a time.

Replicas of the shop start together and each migrates as it starts. Two `migrate`s at once both
see a migration unapplied and both apply it: the second fails ("relation already exists") and
its container exits. Under a PostgreSQL advisory lock they take turns instead: the first applies
the migrations and creates the admin, the ones after it find nothing left to do. SQLite (one
process, `make run`) needs no lock.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

# Any fixed number, the same in every replica: the lock's name.
LOCK_KEY = 0x6B61737361  # "kassa"


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        # A session lock: held across migrate's own transactions, released when this ends or
        # the process dies.
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


class Command(BaseCommand):
    help = "Apply migrations and create the admin, one replica at a time (PostgreSQL lock)."

    def handle(self, *args: Any, **options: Any) -> None:
        with _one_at_a_time():
            call_command("migrate", interactive=False, verbosity=options["verbosity"])
            call_command("ensure_superuser", verbosity=options["verbosity"])
