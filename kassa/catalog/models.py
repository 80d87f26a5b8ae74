from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    RegexValidator,
)
from django.db import models
from django.db.models.expressions import CombinedExpression
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kassa.common.money import CURRENCY_CHOICES, MoneyError, validate_amount

# More than any shop counts by hand, and far below what the column holds.
MAX_STOCK = 10_000_000


def search_document() -> CombinedExpression:
    """An item's words for full-text search, stemmed as Russian and as English (so "кружки"
    finds "Кружка" and "mugs" finds "Mug"): what `search_vector` keeps (migration 0006's
    trigger writes the same in SQL)."""
    words = ("name", "description")
    russian = SearchVector(*words, config="russian")
    english = SearchVector(*words, config="english")
    return russian + english


class Item(models.Model):
    name = models.CharField(_("name"), max_length=200, validators=[MinLengthValidator(1)])
    description = models.TextField(
        _("description"), max_length=5000, blank=True, validators=[MaxLengthValidator(5000)]
    )
    # Major units, exactly: three places hold every currency Stripe supports (KWD has three).
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=3)
    currency = models.CharField(
        _("currency"), max_length=3, choices=CURRENCY_CHOICES, default="usd"
    )
    # The upload as staff sent it (kept to make new sizes from); pages show only the sizes
    # below, made from it once, on upload (kassa.catalog.images). Every name is its content's
    # hash, so a file never changes under its address and browsers may keep it for a year.
    # Database defaults too: a process still running the previous release (a rolling deploy)
    # inserts items without these columns.
    image = models.ImageField(
        _("image"), upload_to="items/", blank=True, max_length=200, default="", db_default=""
    )
    image_alt = models.CharField(
        _("image description"),
        max_length=300,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "What the image shows, for people who cannot see it, in the shop's main language. "
            "Pages in other languages, and items without one, use the item's name."
        ),
    )
    card_image = models.ImageField(
        upload_to="items/", blank=True, editable=False, max_length=200, default="", db_default=""
    )
    card_width = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    card_height = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # Stripe Tax's product tax code (SHOP_TAX=stripe); blank: SHOP_DEFAULT_TAX_CODE.
    tax_code = models.CharField(
        _("tax code"),
        max_length=20,
        blank=True,
        default="",
        db_default="",
        validators=[
            RegexValidator(r"^txcd_[0-9]{8}$", _("A Stripe tax code, e.g. txcd_99999999."))
        ],
        help_text=_(
            "Stripe's product tax code (used when Stripe Tax computes tax), e.g. txcd_10000000 "
            "for software as a service. Blank: the shop's default."
        ),
    )
    # Checkout asks for a shipping address only for an order holding an item that needs one.
    requires_shipping = models.BooleanField(
        _("requires shipping"),
        default=True,
        db_default=True,
        help_text=_("Off for digital goods: nothing is sent, so no address is asked for."),
    )
    large_image = models.ImageField(
        upload_to="items/", blank=True, editable=False, max_length=200, default="", db_default=""
    )
    large_width = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    large_height = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # Stock: units on hand, those held by checkouts included (blank: not tracked, never sold
    # out). Available is stock - reserved. `reserved` is written only by kassa.orders.stock's
    # conditional UPDATEs, never by a save (see save()); the CHECK below is the last line.
    stock = models.PositiveIntegerField(
        _("stock"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_STOCK)],
        help_text=_(
            "Units on hand, including those in checkouts now. Leave blank to sell without "
            "counting (never sold out)."
        ),
    )
    reserved = models.PositiveIntegerField(_("reserved"), default=0, db_default=0, editable=False)
    is_active = models.BooleanField(
        _("on sale"),
        default=True,
        db_default=True,
        help_text=_(
            "Off sale: the item leaves the catalog and cannot be bought; orders that name it "
            "keep it. Take an item with orders off sale instead of deleting it."
        ),
    )
    # The words search matches (search_document(), stored): on PostgreSQL a trigger writes it
    # whenever the name or the description is written, bulk writes included, so no search
    # computes an item's words again. Empty elsewhere (SQLite searches without it).
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="item_price_positive"),
            # No interleaving of checkouts can hold more than there is.
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(reserved__lte=models.F("stock")),
                name="item_reserved_within_stock",
            ),
        ]
        indexes = [
            # A catalog page is a slice in this order: the index makes it a short index scan
            # rather than a sort of every item, whatever the catalog's size.
            models.Index(fields=["name", "id"], name="catalog_item_order"),
            # Full-text search's GIN index on `search_vector` exists on PostgreSQL only, made by
            # migration 0006 with the trigger that keeps the column in step.
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # `reserved` moves under checkouts at any moment: a save of an item read earlier (the
        # admin's form) must not write back the figure it read.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "reserved"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", args=[self.pk])

    @property
    def available(self) -> int | None:
        """Units a customer can still buy; None when stock is not tracked."""
        return None if self.stock is None else max(self.stock - self.reserved, 0)

    @property
    def sold_out(self) -> bool:
        return self.available == 0

    @property
    def low_stock(self) -> int | None:
        """How many are left when few enough to say so ("Only N left"), else None."""
        available = self.available
        if available is None or available == 0 or available >= settings.SHOP_LOW_STOCK:
            return None
        return available

    def image_alt_text(self) -> str:
        """The image's description on this page: staff write it in the shop's main language,
        so other languages (and items without one) fall back to the name."""
        if self.image_alt and get_language() == settings.LANGUAGE_CODE:
            return self.image_alt
        return self.name

    def clean(self) -> None:
        super().clean()
        self.name = self.name.strip()
        if not self.name:
            raise ValidationError({"name": _("The name cannot be blank.")})
        if self.price is not None and self.currency:
            try:
                validate_amount(Decimal(self.price), self.currency)
            except MoneyError as exc:
                raise ValidationError({"price": str(exc)}) from exc


class CatalogRevision(models.Model):
    """One row: the token shared pages are kept under (kassa.catalog.revision)."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token
