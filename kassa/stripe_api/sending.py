"""How one HTTP request to Stripe is sent, and what it may cost the shop: a thread of its own out
of a few, its turn under the account's pace, retries of a 429 (rate limited) within a bounded
wait, and the request's deadline.

Every HTTP request the shop's Stripe clients send goes through `send` (kassa.stripe_api.http):

- **A bulkhead.** At most STRIPE_CONCURRENCY threads of a process wait on Stripe at once (in
  the pace's line or for an answer); one more is refused at once, so a slow Stripe can never
  hold every thread and the pages always have some to answer with.
- **The pace** (kassa.stripe_api.pacing), then the request.
- **A 429** is retried with exponential backoff and full jitter, with the same Idempotency-Key
  (the same request, resent), as long as the pace's wait and the backoff together stay within
  STRIPE_RATE_LIMIT_WAIT_SECONDS. stripe-python does not retry a 429 itself.
- **The request's deadline**: STRIPE_TOTAL_DEADLINE_SECONDS from the moment the shop began
  answering the request (kassa.stripe_api.deadline), well under a reverse proxy's 60 s. Each
  send's timeout is cut to what is left of it, and no send begins after it.

Past any of these bounds the call raises `Busy`, which kassa.stripe_api.client turns into
PaymentProviderBusy (a 503 with Retry-After); nothing was made at Stripe by a call that raised
it before its request was sent, and a request resent after a 429 carries the key that makes it
the same one.
"""

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import stripe
import urllib3
from django.conf import settings

from kassa.stripe_api import pacing
from kassa.stripe_api.deadline import remaining

logger = logging.getLogger(__name__)

# Backoff after a 429: a random wait between 0 and BASE × 2^n seconds, at most CAP (AWS's
# "full jitter": retries of many clients spread out instead of arriving together again).
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 4.0
# What a refused caller is told to wait before trying again, when no better figure is known.
BUSY_RETRY_AFTER = 1
SLOW_RETRY_AFTER = 5


class Busy(Exception):
    """Stripe was not called, or not answered in time: `reason` is "busy" (the bulkhead is
    full, the pace or 429s would keep the caller waiting too long) or "slow" (the deadline
    passed); try again after `retry_after` seconds."""

    def __init__(self, reason: str, *, retry_after: int, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    """Whose pace a client's calls count against."""

    key: str  # the account's stable name (Keypair.account), never the secret itself
    live: bool


def account_of(secret: str, key: str) -> Account:
    return Account(key=key, live=secret.startswith(("sk_live_", "rk_live_")))


# --- the bulkhead -------------------------------------------------------------------------------

_bulkheads: dict[int, threading.BoundedSemaphore] = {}
_bulkheads_lock = threading.Lock()


def _bulkhead() -> threading.BoundedSemaphore:
    size = max(1, int(settings.STRIPE_CONCURRENCY))
    with _bulkheads_lock:
        return _bulkheads.setdefault(size, threading.BoundedSemaphore(size))


@contextmanager
def _slot() -> Iterator[None]:
    bulkhead = _bulkhead()
    if not bulkhead.acquire(blocking=False):
        raise Busy(
            "busy", retry_after=BUSY_RETRY_AFTER, detail="every thread for Stripe is waiting"
        )
    try:
        yield
    finally:
        bulkhead.release()


# --- one request --------------------------------------------------------------------------------


def send(
    account: Account,
    timeout: float,
    request: Callable[[urllib3.Timeout], urllib3.BaseHTTPResponse],
) -> urllib3.BaseHTTPResponse:
    """`request(timeout)`: one HTTP request to Stripe, sent in its turn and resent after a 429,
    within the bounds above. Raises Busy past them."""
    with _slot():
        started = time.monotonic()
        budget = float(settings.STRIPE_RATE_LIMIT_WAIT_SECONDS)
        retries = 0
        while True:
            _wait_turn(account, budget - (time.monotonic() - started))
            response = _send_in_time(request, timeout)
            if response.status != 429:
                return response
            pacing.on_rate_limited()
            response.drain_conn()
            response.release_conn()
            ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries)
            pause = random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret
            left = _left(budget - (time.monotonic() - started))
            if pause >= left:
                logger.warning("stripe answered 429 %d times: giving up", retries + 1)
                raise Busy(
                    "busy",
                    retry_after=max(BUSY_RETRY_AFTER, math.ceil(pause)),
                    detail=f"rate limited {retries + 1} times",
                )
            retries += 1
            logger.info("stripe answered 429: retry %d in %.2fs", retries, pause)
            time.sleep(pause)


def _left(budget: float) -> float:
    """What the caller may still wait: the budget, and no further than the deadline."""
    left = remaining()
    return budget if left is None else min(budget, left)


def _wait_turn(account: Account, budget: float) -> None:
    left = remaining()
    if left is not None and left <= 0:
        raise Busy("slow", retry_after=SLOW_RETRY_AFTER, detail="the deadline passed")
    try:
        pacing.wait_turn(account=account.key, live=account.live, max_wait=max(0.0, _left(budget)))
    except pacing.PaceExceeded as exc:
        raise Busy(
            "busy", retry_after=pacing.retry_after(exc.wait), detail=f"next turn in {exc.wait:.1f}s"
        ) from exc


def _send_in_time(
    request: Callable[[urllib3.Timeout], urllib3.BaseHTTPResponse], timeout: float
) -> urllib3.BaseHTTPResponse:
    left = remaining()
    if left is None:
        return request(urllib3.Timeout(connect=timeout, read=timeout))
    if left <= 0:
        raise Busy("slow", retry_after=SLOW_RETRY_AFTER, detail="the deadline passed")
    cut = min(timeout, left)
    try:
        return request(urllib3.Timeout(connect=cut, read=cut, total=cut))
    except stripe.APIConnectionError as exc:
        left = remaining()
        if left is not None and left <= 0.05:
            # Cut short by the deadline: stripe-python would retry it after a pause, past it.
            raise Busy("slow", retry_after=SLOW_RETRY_AFTER, detail="the deadline passed") from exc
        raise
