"""The shop's pace for each Stripe account: at most STRIPE_RATE_LIMIT calls a second, counted
together by every process and replica through Redis, or by each process alone without it.

A GCRA (generic cell rate algorithm) with no burst: each call reserves the next free slot of
its account, 1/rate seconds after the one before, and waits for it. One Lua script in Redis does
the reading and the reserving atomically, on Redis's own clock, so the replicas' clocks do not
matter. A call whose slot is further away than its caller may wait reserves nothing.

Without REDIS_URL, or while Redis does not answer (logged once per outage, tried again every
few seconds), each process paces itself at its share of the rate: the rate divided by the
processes of one replica (WEB_CONCURRENCY), so one replica alone stays under Stripe's limit.
"""

import logging
import math
import os
import threading
import time
from dataclasses import dataclass, field

import redis
from django.conf import settings

from kassa.metrics import instruments as metrics

logger = logging.getLogger(__name__)

# Stripe's limits are 100 calls a second per account in live mode and 25 in test mode; the
# defaults keep a fifth of each as headroom (other tools, the dashboard, reconciliation).
DEFAULT_LIVE_RATE = 80.0
DEFAULT_TEST_RATE = 20.0
# How long pacing stays per process after Redis failed to answer, before Redis is asked again.
REDIS_RETRY_SECONDS = 5.0
# A Redis that is slow to answer is treated as gone: the pacer is on every checkout's path.
REDIS_TIMEOUT_SECONDS = 0.5

# KEYS[1]: the account's theoretical arrival time (TAT), seconds on Redis's clock.
# ARGV[1]: seconds between calls (1/rate); ARGV[2]: the longest wait the caller accepts.
# Answers {1, wait} with the slot reserved, or {0, wait} without.
_GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then
  return {0, string.format('%.6f', wait)}
end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', next_tat),
  'PX', math.ceil((next_tat - now) * 1000) + 1000)
return {1, string.format('%.6f', wait)}
"""


class PaceExceeded(Exception):
    """The account's next free slot is `wait` seconds away, more than the caller may wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"next slot in {wait:.2f}s")
        self.wait = wait


def on_paced(wait_seconds: float) -> None:
    """A call waited `wait_seconds` for its turn (0 when it had not to wait)."""
    metrics.stripe_limiter_waited(wait_seconds)


def on_rate_limited() -> None:
    """Stripe answered a call 429 (rate limited)."""
    metrics.stripe_rate_limited()


def rate_for(*, live: bool) -> float:
    """Calls a second the shop allows itself per account (0: no pacing)."""
    configured = settings.STRIPE_RATE_LIMIT
    if configured is not None:
        return float(configured)
    return DEFAULT_LIVE_RATE if live else DEFAULT_TEST_RATE


def reserve(*, account: str, live: bool, max_wait: float) -> float:
    """Reserve the account's next slot: the seconds until it (the caller sleeps them). Raises
    PaceExceeded, reserving nothing, when the slot is more than `max_wait` seconds away."""
    rate = rate_for(live=live)
    if rate <= 0:
        return 0.0
    shared = _shared()
    if shared is not None:
        wait = shared.reserve(account, 1.0 / rate, max_wait)
        if wait is not None:
            return wait
    share = rate / max(1, int(settings.WEB_CONCURRENCY))
    return _local.reserve(account, 1.0 / share, max_wait)


def wait_turn(*, account: str, live: bool, max_wait: float) -> float:
    """Reserve the account's next slot and sleep until it; the seconds waited."""
    wait = reserve(account=account, live=live, max_wait=max_wait)
    if wait > 0:
        time.sleep(wait)
    on_paced(wait)
    return wait


class _LocalPace:
    """The same GCRA in one process's memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(self, account: str, interval: float, max_wait: float) -> float:
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(account, now), now)
            wait = tat - now
            if wait > max_wait:
                raise PaceExceeded(wait)
            self._tat[account] = tat + interval
            return wait


@dataclass
class _SharedPace:
    """The pace in Redis; `reserve` answers None while Redis cannot be used."""

    url: str
    client: redis.Redis
    script: "redis.commands.core.Script"
    down_until: float = 0.0
    down: bool = False
    # The threads of a process meet an outage together: one of them says so.
    _state_lock: threading.Lock = field(default_factory=threading.Lock)

    def reserve(self, account: str, interval: float, max_wait: float) -> float | None:
        if self.down and time.monotonic() < self.down_until:
            return None
        try:
            granted, wait = self.script(
                keys=[f"kassa:stripe-pace:{account}"], args=[f"{interval:.9f}", max_wait]
            )
        except redis.RedisError as exc:
            with self._state_lock:
                noticed_first, self.down = not self.down, True
                self.down_until = time.monotonic() + REDIS_RETRY_SECONDS
            if noticed_first:
                logger.warning(
                    "Redis does not answer (%s): Stripe calls are paced per process until it "
                    "does again",
                    type(exc).__name__,
                )
            return None
        if self.down:
            with self._state_lock:
                back_first, self.down = self.down, False
            if back_first:
                logger.warning("Redis answers again: Stripe calls are paced together again")
        if not granted:
            raise PaceExceeded(float(wait))
        return float(wait)


_local = _LocalPace()
_shared_by_process: dict[tuple[int, str], _SharedPace] = {}
_shared_lock = threading.Lock()


def _shared() -> _SharedPace | None:
    """This process's connection to the shared pace (one per REDIS_URL; a forked process makes
    its own), or None without REDIS_URL."""
    url = settings.REDIS_URL
    if not url:
        return None
    key = (os.getpid(), url)
    shared = _shared_by_process.get(key)
    if shared is None:
        with _shared_lock:
            shared = _shared_by_process.get(key)
            if shared is None:
                client = redis.Redis.from_url(
                    url,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                )
                shared = _SharedPace(url, client, client.register_script(_GCRA))
                _shared_by_process[key] = shared
    return shared


def retry_after(wait: float) -> int:
    """Whole seconds for a Retry-After header, at least one."""
    return max(1, math.ceil(wait))
