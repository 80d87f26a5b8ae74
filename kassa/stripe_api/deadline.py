"""A request's deadline for its Stripe calls: set once where a request begins (the web layer's
middleware, a command), read by every send (kassa.stripe_api.sending), which cuts its timeout to
what is left and begins nothing after it."""

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "stripe_deadline", default=None
)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Stripe calls inside end within `seconds` from now (None or 0: no deadline)."""
    token = _deadline.set(time.monotonic() + seconds if seconds else None)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (None: there is none)."""
    at = _deadline.get()
    return None if at is None else at - time.monotonic()
