"""The database cache the throttles count in without Redis (kassa.common.cache)."""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.utils import timezone

from kassa.common.cache import CountingDatabaseCache
from kassa.common.models import CacheEntry

pytestmark = pytest.mark.django_db


def test_without_redis_the_default_cache_is_the_shared_table() -> None:
    assert isinstance(caches["default"], CountingDatabaseCache)


def test_a_count_keeps_the_expiry_its_window_gave_it() -> None:
    """Django's own incr is a get and a set, and the set gives the key the default timeout
    again: a count in an hour-long window would then start over after five idle minutes."""
    cache = caches["default"]
    assert cache.add("count", 1, 3600)
    expires = CacheEntry.objects.get().expires

    assert [cache.incr("count") for _ in range(3)] == [2, 3, 4]

    assert cache.get("count") == 4
    assert CacheEntry.objects.get().expires == expires
    assert expires > timezone.now() + timedelta(minutes=50)


def test_a_missing_or_expired_count_cannot_be_counted_on() -> None:
    cache = caches["default"]
    with pytest.raises(ValueError, match="not found"):
        cache.incr("nothing")
    cache.add("old", 1, 3600)
    CacheEntry.objects.update(expires=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValueError, match="not found"):
        cache.incr("old")
