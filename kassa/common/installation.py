"""This installation's id: random, made once per database and kept there, so what the shop
sends a shared service in its own name (Stripe's idempotency keys) never collides with what
another database of the shop sent, though both count their orders from the same numbers."""

import secrets
import threading

from django.db import IntegrityError, transaction

from kassa.common.models import Installation

_lock = threading.Lock()
_known: str | None = None


def installation_id() -> str:
    """The id, read once per process (it never changes while the database lives)."""
    global _known
    if _known is None:
        with _lock:
            if _known is None:
                _known = _read_or_make()
    return _known


def forget() -> None:
    """Read the id again on next use (tests; a process whose database was replaced)."""
    global _known
    with _lock:
        _known = None


def _read_or_make() -> str:
    found = Installation.objects.order_by("pk").values_list("key", flat=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            # pk=1: two processes making the first one at once make one row between them.
            Installation.objects.create(pk=1, key=secrets.token_hex(8))
    except IntegrityError:
        pass
    return Installation.objects.values_list("key", flat=True).get(pk=1)
