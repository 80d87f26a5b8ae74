"""The shop's caches: the default cache's two kinds, Redis shared by every replica (REDIS_URL)
or, without it, a table in the shop's database shared by every process of the one replica
`make run` starts; and each process's own memory, for the shared pages' copies.

With either default cache the throttles count in one place for all of gunicorn's workers
(kassa.common.throttle). Two changes to Django's backends make them fit for that:

- Redis that is down or hung must not take the shop with it: every call has a short timeout
  (CACHES' OPTIONS), and one that fails is a miss (a refused `add`, an `incr` of a missing key),
  which django-ratelimit answers by letting the request through (RATELIMIT_FAIL_OPEN). After a
  failure the process leaves Redis alone for REDIS_RETRY_SECONDS, so an outage costs one timeout
  per process, not one per call; it is logged once, and once again when Redis answers.
- The database cache's `incr` is Django's `get` then `set`: two workers counting at once would
  both write the same number, and the `set` would give the key a new expiry. Here it is one
  locked read and write of the row, its expiry kept.
"""

import base64
import logging
import pickle
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import DatabaseError, router, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from kassa.common.models import CacheEntry

logger = logging.getLogger(__name__)

# How long a process leaves Redis alone after a call failed (each call's own timeout is in
# CACHES' OPTIONS).
REDIS_RETRY_SECONDS = 5.0

T = TypeVar("T")


class _Outage:
    """Whether this process is leaving one Redis alone, shared by the threads (Django makes a
    cache object per thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.until = 0.0
        self.down = False

    def skipping(self) -> bool:
        return time.monotonic() < self.until

    def failed(self, location: str, error: Exception) -> None:
        with self.lock:
            self.until = time.monotonic() + REDIS_RETRY_SECONDS
            if self.down:
                return
            self.down = True
        logger.warning(
            "Redis (%s) does not answer (%s): until it does, the throttles let every request "
            "through and the shared cache misses",
            location.rsplit("@", 1)[-1],
            type(error).__name__,
        )

    def answered(self) -> None:
        if self.down:
            with self.lock:
                was_down, self.down = self.down, False
            if was_down:
                logger.warning("Redis answers again: the throttles count again")


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_of(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage())


class _OneClientPerPool(RedisCacheClient):
    """Django's Redis client, keeping one `redis.Redis` per connection pool. Django makes a new
    one for every call, and making one (its table of response callbacks) cost more CPU than
    the call itself: a page reading the header's cart versions paid for it on every view."""

    def __init__(self, servers: Any, **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}
        self._reader: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            # redis.Redis is safe to share between threads: it takes a connection per command.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def get_many(self, keys: Any) -> dict[Any, Any]:
        """Django's get_many on a connection this client keeps (Django makes a client per
        thread): every page with a cart reads its versions here (kassa.orders.cart_versions),
        and taking a connection from the pool and giving it back, with the pool's check of it
        each time, cost twice the CPU of the read itself."""
        keys = list(keys)
        if self._reader is None:
            self._reader = self._get_connection_pool(False).get_connection()  # type: ignore[attr-defined]
        try:
            self._reader.send_command("MGET", *keys)
            values = self._reader.read_response()
            if not isinstance(values, list) or len(values) != len(keys):
                raise RedisError(f"MGET of {len(keys)} keys answered {type(values).__name__}")
        except BaseException:
            # Whatever was left unread (a late answer after a timeout) must never be taken for
            # the next read's: the next read connects afresh.
            self._reader.disconnect()
            raise
        loads = self._serializer.loads  # type: ignore[attr-defined]
        pairs = zip(keys, values, strict=True)
        return {key: loads(value) for key, value in pairs if value is not None}


class _AnyKey:
    """Django checks each key against memcached's rules (its length, no spaces or control
    characters) in a pass over its characters, 2 µs for a shared page's key. Redis and a
    process's memory take any key, and every page reads two or three."""

    def validate_key(self, key: Any) -> None:
        return None


class ProcessCache(_AnyKey, LocMemCache):
    """Django's cache in the process's memory (the shared pages' copies), taking any key."""


class FailSoftRedisCache(_AnyKey, RedisCache):
    """Django's Redis cache, where Redis down or slow is a miss rather than an error."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _OneClientPerPool
        self._outage = _outage_of(str(server))
        self._location = str(server)

    def _try(self, call: Callable[[], T], fallback: T) -> T:
        if self._outage.skipping():
            return fallback
        try:
            answer = call()
        except (RedisError, OSError) as error:
            self._outage.failed(self._location, error)
            return fallback
        self._outage.answered()
        return answer

    def reachable(self) -> bool:
        """Whether Redis answers a PING now (for /healthz; it ignores the pause)."""
        try:
            self._cache.get_client(write=True).ping()
        except (RedisError, OSError) as error:
            self._outage.failed(self._location, error)
            return False
        self._outage.answered()
        return True

    def _call(self, name: str, fallback: Any, *args: Any) -> Any:
        return self._try(lambda: getattr(RedisCache, name)(self, *args), fallback)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return bool(self._call("add", False, key, value, timeout, version))

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._call("get", default, key, default, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._call("set", None, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return bool(self._call("touch", False, key, timeout, version))

    def delete(self, key: Any, version: Any = None) -> bool:
        return bool(self._call("delete", False, key, version))

    def get_many(self, keys: Any, version: Any = None) -> dict[str, Any]:
        found: dict[str, Any] = self._call("get_many", {}, keys, version)
        return found

    def has_key(self, key: Any, version: Any = None) -> bool:
        return bool(self._call("has_key", False, key, version))

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        missing = object()
        answer = self._call("incr", missing, key, delta, version)
        if answer is missing:
            # What django-ratelimit (and Django's contract) reads as "no count to go by".
            raise ValueError("Redis does not answer")
        return int(answer)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        failed: list[Any] = self._call("set_many", list(data), data, timeout, version)
        return failed

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._call("delete_many", None, keys, version)

    def clear(self) -> None:
        self._call("clear", None)


class CountingDatabaseCache(DatabaseCache):
    """Django's database cache with an `incr` that two processes can run at once."""

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(CacheEntry)
        try:
            # The row is locked from the read to the write (PostgreSQL's FOR UPDATE; SQLite's
            # transactions here take the write lock as they begin).
            with transaction.atomic(using=db):
                entries = CacheEntry.objects.using(db).select_for_update()
                row = entries.filter(cache_key=key, expires__gt=timezone.now()).first()
                if row is None:
                    raise ValueError(f"Key '{key}' not found")
                value = pickle.loads(base64.b64decode(row.value)) + delta  # noqa: S301 - ours
                row.value = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode()
                row.save(update_fields=["value"])
        except DatabaseError as error:
            raise ValueError(f"Key '{key}' could not be counted") from error
        return int(value)
