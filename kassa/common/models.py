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


class ShopSettings(models.Model):
    """What the owner says of the shop, set in the admin ("Shop settings"): one row. A blank
    field falls back to its setting from the environment (kassa.common.identity)."""

    name = models.CharField(
        "shop name", max_length=100, blank=True, help_text="Shown in the header, titles and mail."
    )
    logo = models.ImageField(
        upload_to="shop/",
        blank=True,
        help_text="Shown in the storefront's header and in mail, about 40 pixels high.",
    )
    contact_email = models.EmailField(
        "contact e-mail", blank=True, help_text="Where customers write; in the footer and mail."
    )
    contact_address = models.TextField(
        "contact address", blank=True, help_text="The shop's postal address, for the footer."
    )
    footer_text = models.TextField(
        "footer text", blank=True, help_text="A line or two shown at the bottom of every page."
    )
    time_zone = models.CharField(
        "time zone",
        max_length=64,
        blank=True,
        help_text="Dates and times in pages, mail and the admin (e.g. Europe/Berlin).",
    )
    languages = models.CharField(
        "languages offered",
        max_length=200,
        blank=True,
        help_text="The languages customers can choose; none ticked: all the shop has.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "shop settings"
        verbose_name_plural = "shop settings"

    def __str__(self) -> str:
        return "Shop settings"
