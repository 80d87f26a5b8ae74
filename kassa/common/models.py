"""The common app's one table: the database cache's (kassa.common.cache)."""

from django.db import models


class CacheEntry(models.Model):
    """A row of the database cache: the table Django's `createcachetable` would make, made by a
    migration instead, so every database the shop migrates has it, whatever the cache setting."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "kassa_cache"
        verbose_name = "cache entry"
        verbose_name_plural = "cache entries"

    def __str__(self) -> str:
        return self.cache_key
