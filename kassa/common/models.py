"""The common app's tables: the database cache's (kassa.common.cache) and this installation's id."""

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


class Installation(models.Model):
    """This installation of the shop: one row, made once per database (kassa.common.installation).

    Its id tells this database's requests to a shared service apart from another database's: a
    development database reset, a staging copy beside development, or a restore, all counting
    their orders from the same numbers on one Stripe account."""

    key = models.CharField("installation id", max_length=32, unique=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)

    class Meta:
        verbose_name = "installation"
        verbose_name_plural = "installation"

    def __str__(self) -> str:
        return self.key
