import itertools
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
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from modeltranslation.manager import MultilingualManager
from modeltranslation.utils import build_localized_fieldname

from kassa.catalog.handles import unidecode_ru
from kassa.common.money import CURRENCY_CHOICES, MoneyError, validate_amount

# More than any shop counts by hand, and far below what the column holds.
MAX_STOCK = 10_000_000


def search_document() -> CombinedExpression:
    """An item's words for full-text search, in every language it is written in, stemmed as
    Russian and as English (so "кружки" finds "Кружка" and "mugs" finds "Mug"): what
    `search_vector` keeps (migration 0012's trigger writes the same in SQL)."""
    words = ("name_en", "name_ru", "description_en", "description_ru")
    russian = SearchVector(*words, config="russian")
    english = SearchVector(*words, config="english")
    return russian + english


def localized(field: str, language: str | None = None) -> str:
    """The column of `field` in `language` (the shop's main language by default): "name_ru"."""
    return build_localized_fieldname(field, language or settings.LANGUAGE_CODE)


def set_texts(instance: models.Model, language: str, **texts: str) -> None:
    """Write `instance`'s texts in `language`: set_texts(product, "ru", name="Кружка")."""
    for field, text in texts.items():
        setattr(instance, localized(field, language), text)


def text_in(instance: models.Model, field: str, language: str) -> str | None:
    """`instance`'s `field` as written in `language` (None: not written in it)."""
    text: str | None = getattr(instance, localized(field, language))
    return text


def languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def sync_main_language(instance: models.Model, fields: tuple[str, ...]) -> None:
    """Before a save: the main language's column filled (an object made while another language
    was active has only that one: it becomes the main text too). The save itself runs in the
    main language (`main_language()`), so the original column is written from it: ordering,
    indexes and search words read the main language whatever language is active."""
    for field in fields:
        column = localized(field)
        if getattr(instance, column, None) is None:
            setattr(instance, column, instance.__dict__.get(field) or "")


def main_language() -> translation.override:
    return translation.override(settings.LANGUAGE_CODE)


def clean_name(instance: models.Model) -> None:
    """Every language's name without surrounding spaces; the main language's one required."""
    for code in languages():
        column = localized("name", code)
        value = getattr(instance, column, None)
        if value is not None:
            setattr(
                instance, column, value.strip() or (None if code != settings.LANGUAGE_CODE else "")
            )
    main = getattr(instance, localized("name"), None)
    if main is None:
        main = (instance.__dict__.get("name") or "").strip()
        setattr(instance, localized("name"), main)
    if not main:
        raise ValidationError({localized("name"): _("The name cannot be blank.")})


# The texts of each model shown to customers, in each language (kassa/catalog/translation.py).
PRODUCT_TEXTS = ("name", "description", "body_html")
COLLECTION_TEXTS = ("name", "description")
ITEM_TEXTS = ("name", "description", "image_alt")
PRODUCT_IMAGE_TEXTS = ("alt",)


# A product tells its variants apart by up to this many options (Size, Colour, ...), as Shopify.
MAX_OPTIONS = 3


class Product(models.Model):
    """What a customer sees as one thing on a page of its own: its variants are Items, each
    with its own price, stock and image, told apart by the values of up to three options."""

    # Declared, so type checkers know what django-modeltranslation makes of it.
    objects: MultilingualManager["Product"] = MultilingualManager()
    name = models.CharField(_("name"), max_length=200, validators=[MinLengthValidator(1)])
    handle = models.SlugField(
        _("handle"),
        max_length=200,
        unique=True,
        help_text=_("The product's address: /products/handle/. Letters, digits and hyphens."),
    )
    description = models.TextField(
        _("description"), max_length=20000, blank=True, validators=[MaxLengthValidator(20000)]
    )
    # The body as HTML, from an import (sanitised on the way in, kassa.catalog.shopify_csv);
    # the page shows it instead of the description when there is one.
    body_html = models.TextField(
        _("description as HTML"), blank=True, default="", db_default="", editable=False
    )
    option1_name = models.CharField(_("option 1"), max_length=100, blank=True, default="")
    option2_name = models.CharField(_("option 2"), max_length=100, blank=True, default="")
    option3_name = models.CharField(_("option 3"), max_length=100, blank=True, default="")
    is_active = models.BooleanField(
        _("on sale"),
        default=True,
        help_text=_(
            "Off sale: the product and all its variants leave the catalog, its page answers "
            "404 and it leaves the sitemap."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The original column (the main language's name), as an expression: django-modeltranslation
        # would turn "name" into the page language's column, untranslated rows first, no index.
        ordering = [models.F("name").asc(), "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            # By the main language's name in every language (kassa/catalog/translation.py);
            # written as expressions so django-modeltranslation adds no index per language.
            models.Index(models.F("name"), models.F("id"), name="catalog_product_order")
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        sync_main_language(self, PRODUCT_TEXTS)
        with main_language():
            super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:product", args=[self.handle])

    def page_body(self) -> tuple[str, bool]:
        """What the page shows as the description, and whether it is HTML: the imported HTML
        body or the written description in the page's language, whichever exists there (a
        Russian description written in the admin wins over the main language's imported
        HTML), else the main language's."""
        language = get_language() or settings.LANGUAGE_CODE
        for code in dict.fromkeys([language, settings.LANGUAGE_CODE]):
            html = getattr(self, localized("body_html", code), None)
            if html:
                return html, True
            text = getattr(self, localized("description", code), None)
            if text:
                return text, False
        return "", False

    @property
    def option_names(self) -> list[str]:
        """The names of the options in use, in order (no gaps: option 2 needs option 1)."""
        names = [self.option1_name, self.option2_name, self.option3_name]
        return [name for name in names if name]

    def clean(self) -> None:
        super().clean()
        clean_name(self)
        names = [self.option1_name.strip(), self.option2_name.strip(), self.option3_name.strip()]
        if any(later and not earlier for earlier, later in itertools.pairwise(names)):
            raise ValidationError(_("Fill the options in order: option 2 needs option 1."))
        if len({n.casefold() for n in names if n}) != len([n for n in names if n]):
            raise ValidationError(_("Two options cannot have the same name."))
        self.option1_name, self.option2_name, self.option3_name = names


class ProductImage(models.Model):
    """One picture of a product's gallery, in the product's order. A variant's own image takes
    the gallery's place while that variant is chosen; a card shows the product's first image
    when its variant has none. Stored and resized as an item's (kassa.catalog.images)."""

    # Declared, so type checkers know what django-modeltranslation makes of it.
    objects: MultilingualManager["ProductImage"] = MultilingualManager()
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    image = models.ImageField(_("image"), upload_to="items/", max_length=200)
    alt = models.CharField(
        _("image description"),
        max_length=300,
        blank=True,
        default="",
        help_text=_(
            "What the image shows, for people who cannot see it. A language without one uses "
            "the product's name."
        ),
    )
    # The Image Src an import made it from: importing the file again finds it, not a copy.
    source = models.CharField(max_length=1000, blank=True, default="", editable=False)
    card_image = models.ImageField(upload_to="items/", blank=True, editable=False, max_length=200)
    card_width = models.PositiveIntegerField(default=0, editable=False)
    card_height = models.PositiveIntegerField(default=0, editable=False)
    large_image = models.ImageField(upload_to="items/", blank=True, editable=False, max_length=200)
    large_width = models.PositiveIntegerField(default=0, editable=False)
    large_height = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        indexes = [models.Index(fields=["product", "position", "id"], name="catalog_gallery_order")]

    def __str__(self) -> str:
        return f"{self.product} #{self.position}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        sync_main_language(self, PRODUCT_IMAGE_TEXTS)
        with main_language():
            super().save(*args, **kwargs)

    def alt_text(self, product_name: str) -> str:
        """The description in the page's language, else the product's name in it."""
        own = getattr(self, localized("alt", get_language() or settings.LANGUAGE_CODE), None)
        return own or product_name


def unique_handle(name: str, *, taken: "set[str] | None" = None, exclude: int | None = None) -> str:
    """A handle for `name` that no other product has: its slug, then slug-2, slug-3, ..."""
    base = (slugify(unidecode_ru(name)) or "product")[:180]
    handle, n = base, 1
    others = Product.objects.exclude(pk=exclude) if exclude else Product.objects.all()
    while (taken is not None and handle in taken) or others.filter(handle=handle).exists():
        n += 1
        handle = f"{base}-{n}"
    if taken is not None:
        taken.add(handle)
    return handle


class Collection(models.Model):
    """A named, ordered set of products, with a page of its own and a place in the header."""

    # Declared, so type checkers know what django-modeltranslation makes of it.
    objects: MultilingualManager["Collection"] = MultilingualManager()
    name = models.CharField(_("name"), max_length=200, validators=[MinLengthValidator(1)])
    handle = models.SlugField(_("handle"), max_length=200, unique=True)
    description = models.TextField(
        _("description"), max_length=5000, blank=True, validators=[MaxLengthValidator(5000)]
    )
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Where it stands in the header: lower first.")
    )
    is_active = models.BooleanField(_("shown"), default=True)
    # A picture at the top of its page (and for links shared elsewhere), stored and resized as
    # an item's (kassa.catalog.images). Database defaults: a process of the previous release
    # inserts collections without these columns.
    image = models.ImageField(
        _("image"), upload_to="items/", blank=True, max_length=200, default="", db_default=""
    )
    card_image = models.ImageField(
        upload_to="items/", blank=True, editable=False, max_length=200, default="", db_default=""
    )
    card_width = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    card_height = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    large_image = models.ImageField(
        upload_to="items/", blank=True, editable=False, max_length=200, default="", db_default=""
    )
    large_width = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    large_height = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    products = models.ManyToManyField(
        Product,
        through="CollectionProduct",
        related_name="collections",
        verbose_name=_("products"),
        blank=True,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", models.F("name").asc(), "id"]  # (as Product's)
        verbose_name = _("collection")
        verbose_name_plural = _("collections")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        sync_main_language(self, COLLECTION_TEXTS)
        with main_language():
            super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:collection", args=[self.handle])


class CollectionProduct(models.Model):
    """A product's place in a collection (staff order them by hand)."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="entries")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("product in collection")
        verbose_name_plural = _("products in collection")
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "product"], name="catalog_collection_product_once"
            )
        ]
        indexes = [
            models.Index(fields=["collection", "position", "id"], name="catalog_collection_order")
        ]

    def __str__(self) -> str:
        return f"{self.collection} · {self.product}"


class Item(models.Model):
    # Declared, so type checkers know what django-modeltranslation makes of it.
    objects: MultilingualManager["Item"] = MultilingualManager()
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
            "What the image shows, for people who cannot see it. A language without one uses "
            "the item's name."
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
    # A gift card for sale: its price is the card's amount; paying issues a card (and its code)
    # for each unit, mailed to whom the buyer names (kassa.giftcards).
    is_gift_card = models.BooleanField(
        _("gift card"),
        default=False,
        db_default=False,
        help_text=_(
            "Selling this item sells a gift card of its price, mailed to the recipient the buyer "
            "names. Make it digital (no shipping)."
        ),
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
    # The product this item is a variant of (every item has one: an item made without one gets
    # a product of one variant on its first save). Nullable for a process still running the
    # previous release during a rolling deploy; the catalog lists products.
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="variants",
        null=True,
        blank=True,
        verbose_name=_("product"),
    )
    option1 = models.CharField(
        _("option 1 value"), max_length=100, blank=True, default="", db_default=""
    )
    option2 = models.CharField(
        _("option 2 value"), max_length=100, blank=True, default="", db_default=""
    )
    option3 = models.CharField(
        _("option 3 value"), max_length=100, blank=True, default="", db_default=""
    )
    position = models.PositiveIntegerField(
        _("position"), default=0, db_default=0, help_text=_("Order among the product's variants.")
    )
    sku = models.CharField(
        _("SKU"),
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text=_("The stock keeping unit; unique when given."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The original column (the main language's name), as an expression: django-modeltranslation
        # would turn "name" into the page language's column, untranslated rows first, no index.
        ordering = [models.F("name").asc(), "id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="item_price_positive"),
            # No interleaving of checkouts can hold more than there is.
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(reserved__lte=models.F("stock")),
                name="item_reserved_within_stock",
            ),
            models.UniqueConstraint(
                fields=["sku"], condition=~models.Q(sku=""), name="catalog_item_sku_unique"
            ),
        ]
        indexes = [
            # A catalog page is a slice in this order: the index makes it a short index scan
            # rather than a sort of every item, whatever the catalog's size.
            # (Expressions: no copy per language, as the product's.)
            models.Index(models.F("name"), models.F("id"), name="catalog_item_order"),
            # A product's variants, in their order, without a sort.
            models.Index(fields=["product", "position", "id"], name="catalog_variant_order"),
            # Full-text search's GIN index on `search_vector` exists on PostgreSQL only, made by
            # migration 0006 with the trigger that keeps the column in step.
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # `reserved` moves under checkouts at any moment: a save of an item read earlier (the
        # admin's form) must not write back the figure it read.
        sync_main_language(self, ITEM_TEXTS)
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "reserved"
            ]
        if self.product_id is None:
            # An item of its own is a product of one variant.
            self.product = Product(handle=unique_handle(self.name), is_active=True)
            self._copy_texts_to(self.product)
            self.product.save()
            fields = kwargs.get("update_fields")
            if fields is not None and "product" not in fields:
                kwargs["update_fields"] = [*fields, "product"]
        with main_language():
            super().save(*args, **kwargs)
        self._mirror_to_product()

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", args=[self.pk])

    def _mirror_to_product(self) -> None:
        """A product without options has this item as its one variant: its name and
        description are the item's, so editing the item edits its page as before."""
        product = self.product
        if product is None or product.option_names:
            return
        if self._copy_texts_to(product):
            fields = [localized(f, code) for f in ("name", "description") for code in languages()]
            product.save(update_fields=[*fields, "name", "description", "updated_at"])

    def _copy_texts_to(self, product: Product) -> bool:
        """The item's name and description, in every language, as `product`'s; whether any
        differed."""
        changed = False
        for column in [localized(f, code) for f in ("name", "description") for code in languages()]:
            value = getattr(self, column)
            if getattr(product, column, None) != value:
                changed = True
                setattr(product, column, value)
        return changed

    @property
    def option_values(self) -> list[str]:
        return [value for value in (self.option1, self.option2, self.option3) if value]

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
        """The image's description in the page's language; where staff wrote none in it, the
        item's name (in that language) rather than another language's description."""
        own = getattr(self, localized("image_alt", get_language() or settings.LANGUAGE_CODE), None)
        return own or self.name

    def clean(self) -> None:
        super().clean()
        clean_name(self)
        self.option1, self.option2, self.option3 = (
            self.option1.strip(),
            self.option2.strip(),
            self.option3.strip(),
        )
        self.sku = self.sku.strip()
        if self.product_id is not None:
            self._clean_as_variant()
        if self.price is not None and self.currency:
            try:
                validate_amount(Decimal(self.price), self.currency)
            except MoneyError as exc:
                raise ValidationError({"price": str(exc)}) from exc

    def _clean_as_variant(self) -> None:
        """A variant fills exactly the options its product has, differs from its siblings, and
        is priced in their currency (a product's page shows one price per variant)."""
        product = self.product
        assert product is not None
        names = product.option_names
        values = [self.option1, self.option2, self.option3]
        for index, field in enumerate(("option1", "option2", "option3")):
            if index < len(names) and not values[index]:
                raise ValidationError({field: _("The product has this option: give its value.")})
            if index >= len(names) and values[index]:
                raise ValidationError({field: _("The product has no such option.")})
        siblings = Item.objects.filter(product=product).exclude(pk=self.pk)
        if not names and siblings.exists():
            raise ValidationError(
                {"product": _("This product has no options, so it has one variant only.")}
            )
        if (
            names
            and siblings.filter(
                option1=self.option1, option2=self.option2, option3=self.option3
            ).exists()
        ):
            raise ValidationError(_("Another variant of this product has these option values."))
        if siblings.exclude(currency=self.currency).exists():
            raise ValidationError(
                {"currency": _("The product's other variants are priced in another currency.")}
            )


class CatalogRevision(models.Model):
    """One row: the token shared pages are kept under (kassa.catalog.revision)."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token
