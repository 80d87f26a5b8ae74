"""The catalog's admin parts: items with their stock and picture (registered by
kassa.backoffice.admin)."""

import secrets
import zipfile
from functools import partial
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminFileWidget
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxValueValidator
from django.db.models import Count, F, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from kassa.catalog import images, services, shopify_csv
from kassa.catalog.models import (
    MAX_STOCK,
    Collection,
    CollectionProduct,
    Item,
    Product,
    ProductImage,
    languages,
    localized,
)
from kassa.common.admin_money import CURRENCIES_IN_USE, show_in_currency
from kassa.common.money import CURRENCY_CHOICES, format_amount


def translated_columns(*fields: str) -> list[str]:
    return [localized(field, code) for field in fields for code in languages()]


class ItemImageField(forms.FileField):
    """An upload that `images.check_upload` accepts; the checked image rides on the file, so the
    save stores exactly what was checked. A refused file is a form error and nothing is stored."""

    widget = AdminFileWidget

    def to_python(self, data: Any) -> Any:
        upload = super().to_python(data)
        if upload is None:
            return None
        try:
            upload.checked_image = images.check_upload(upload)  # type: ignore[attr-defined]
        except images.ImageRejected as exc:
            raise ValidationError(str(exc), code="invalid_image") from exc
        return upload


class ItemAdminForm(forms.ModelForm[Item]):
    image = ItemImageField(
        label=_("image"),
        required=False,
        widget=AdminFileWidget(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )

    class Meta:
        model = Item
        fields = [
            "product",
            "option1",
            "option2",
            "option3",
            "position",
            "sku",
            "name",
            "description",
            "price",
            "currency",
            "tax_code",
            "is_active",
            "requires_shipping",
            "is_gift_card",
            "stock",
            "image",
            "image_alt",
        ]

    stock_moved: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["position"].required = False
        self.fields["product"].help_text = _(
            "The product this item is a variant of. Leave blank to make a product of its own."
        )
        self.fields["stock_seen"].initial = (
            "" if self.instance.stock is None else self.instance.stock
        )
        show_in_currency(self, self.instance.currency, "price")
        self.fields["image"].help_text = _(
            "A JPEG, PNG or WebP picture of at most %(limit)s MB. The pages show it resized."
        ) % {"limit": images.max_upload_mb()}

    # The stock the page showed when staff opened it. Units sell while the page is open, so
    # the save writes the change staff made to that figure, not the figure itself: putting
    # back units sold meanwhile would sell them twice.
    stock_seen = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_position(self) -> int:
        position: int | None = self.cleaned_data.get("position")
        return position or 0

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned is not None and self.instance.pk is not None and "stock" not in self.errors:
            self._stock_to_write(cleaned)
        return cleaned

    def _stock_to_write(self, cleaned: dict[str, Any]) -> None:
        """Stock as what is on hand now plus the change staff made on the page. The row stays
        locked until the save commits (the admin saves in one transaction), so no checkout
        takes a unit in between."""
        if "stock_seen" not in self.data:
            self.add_error(None, STALE_FORM)
            return
        try:
            seen = _stock_or_none(cleaned.get("stock_seen", ""))
        except ValueError:
            self.add_error(None, STALE_FORM)
            return
        posted: int | None = cleaned.get("stock")
        now, reserved = (
            Item.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("stock", "reserved")
            .get()
        )
        stock: int | None
        if posted is not None and seen is not None and now is not None:
            stock = now + (posted - seen)
        elif posted == seen:
            stock = now  # tracking neither started nor stopped on the page
        else:
            stock = posted
        if stock is not None and stock < reserved:
            self.add_error(
                "stock", _below_reserved(reserved, least=reserved - (stock - (posted or 0)))
            )
            return
        if stock is not None:
            try:
                MaxValueValidator(MAX_STOCK)(stock)
            except ValidationError as exc:
                self.add_error("stock", exc)
                return
        cleaned["stock"] = self.instance.stock = stock
        if now != seen and stock is not None:
            self.stock_moved = stock

    def checked_image(self) -> images.CheckedImage | None:
        """The image uploaded with this form, if one was."""
        upload = self.cleaned_data.get("image")
        if "image" not in self.changed_data or not isinstance(upload, UploadedFile):
            return None
        checked: images.CheckedImage = upload.checked_image  # type: ignore[attr-defined]
        return checked


STALE_FORM = _(
    "This page is out of date: reload it to see the item as it is now, then make your change again."
)


def _below_reserved(reserved: int, *, least: int) -> ValidationError:
    if least == reserved:
        message = _(
            "%(reserved)s units are held by checkouts in progress: the stock cannot be less "
            "than that. Wait for them to finish, or set at least %(reserved)s."
        ) % {"reserved": reserved}
    else:
        message = _(
            "Units were sold or taken into checkouts since this page was opened: %(reserved)s "
            "are held by checkouts in progress now, and your change would leave less than that "
            "on hand. Set at least %(least)s."
        ) % {"reserved": reserved, "least": least}
    return ValidationError(message, code="below_reserved")


def _stock_or_none(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise ValueError(text)
    return int(text)


def _picture(file: FieldFile, width: int, height: int, alt: str) -> SafeString:
    if not file:
        return format_html("<span>{}</span>", _("No image"))
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}">',
        file.url,
        width,
        height,
        alt,
    )


class StockFilter(admin.SimpleListFilter):
    """Items to restock: sold out, or fewer available than SHOP_LOW_STOCK."""

    title = _("stock")
    parameter_name = "stock"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Item]
    ) -> list[tuple[str, str]]:
        return [("low", gettext("Low stock")), ("out", gettext("Sold out"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Item]) -> QuerySet[Item]:
        available = F("stock") - F("reserved")
        tracked = queryset.filter(stock__isnull=False).alias(left=available)
        if self.value() == "low":
            return tracked.filter(left__gt=0, left__lt=settings.SHOP_LOW_STOCK)
        if self.value() == "out":
            return tracked.filter(left__lte=0)
        return queryset


class ItemAdmin(TranslationAdmin[Item]):
    form = ItemAdminForm
    list_display = [
        "thumbnail",
        "name",
        "display_price",
        "currency",
        "is_active",
        "stock",
        "reserved",
        "display_available",
        "updated_at",
    ]
    list_display_links = ["thumbnail", "name"]
    list_filter = [StockFilter, "is_active", "requires_shipping", CURRENCIES_IN_USE]
    # Every language's column: a search in one language's admin finds the others' words too.
    search_fields = [*translated_columns("name", "description"), "sku"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]
    readonly_fields = ["reserved", "image_preview", "created_at", "updated_at"]
    fields = [
        "product",
        "option1",
        "option2",
        "option3",
        "position",
        "sku",
        "name",
        "description",
        "price",
        "currency",
        "tax_code",
        "is_active",
        "requires_shipping",
        "is_gift_card",
        "stock",
        "stock_seen",
        "reserved",
        "image",
        "image_preview",
        "image_alt",
        "created_at",
        "updated_at",
    ]

    @admin.display(description=_("price"), ordering="price")
    def display_price(self, obj: Item) -> str:
        return format_amount(obj.price, obj.currency)

    @admin.display(description=_("available"))
    def display_available(self, obj: Item) -> str:
        return self.get_empty_value_display() if obj.available is None else str(obj.available)

    @admin.display(description=_("image"))
    def thumbnail(self, obj: Item) -> SafeString:
        return _picture(obj.card_image, 64, 48, obj.name)

    @admin.display(description=_("as the catalog shows it"))
    def image_preview(self, obj: Item) -> SafeString:
        return _picture(obj.card_image, obj.card_width // 2, obj.card_height // 2, obj.name)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            # Orders name it: their history must stay as it was. Off sale is how it goes.
            messages.warning(
                request,
                gettext(
                    "Items in orders cannot be deleted, so the orders keep what was bought. "
                    "Take them off sale instead: untick “On sale” and save. They leave the "
                    "catalog and can no longer be bought."
                ),
            )
        return deleted, counts, perms_needed, protected

    def save_model(self, request: HttpRequest, obj: Item, form: Any, change: bool) -> None:
        services.item_save(item=obj, new_image=form.checked_image())
        if form.stock_moved is not None:
            messages.info(
                request,
                gettext(
                    "Units were sold or returned while this page was open: your change was made "
                    "to the stock as it was at saving, which is now %(stock)s."
                )
                % {"stock": form.stock_moved},
            )


class CollectionEntryInline(admin.TabularInline[CollectionProduct, Any]):
    model = CollectionProduct
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "position"]


class ProductCollectionInline(admin.TabularInline[CollectionProduct, Any]):
    model = CollectionProduct
    extra = 0
    autocomplete_fields = ["collection"]
    fields = ["collection", "position"]
    verbose_name = _("collection")
    verbose_name_plural = _("collections")


class ProductImageForm(forms.ModelForm[ProductImage]):
    image = ItemImageField(
        label=_("image"),
        widget=AdminFileWidget(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )

    class Meta:
        model = ProductImage
        fields = ["image", "alt", "position"]

    def checked_image(self) -> images.CheckedImage | None:
        upload = self.cleaned_data.get("image")
        if "image" not in self.changed_data or not isinstance(upload, UploadedFile):
            return None
        checked: images.CheckedImage = upload.checked_image  # type: ignore[attr-defined]
        return checked


class ProductImageInline(TranslationTabularInline[ProductImage, Any]):
    """The product's gallery, in order: a variant's own image takes over while it is chosen."""

    model = ProductImage
    form = ProductImageForm
    extra = 0
    fields = ["thumbnail", "image", "alt", "position"]
    readonly_fields = ["thumbnail"]

    @admin.display(description=_("as the catalog shows it"))
    def thumbnail(self, obj: ProductImage) -> SafeString:
        return _picture(obj.card_image, 96, 72, obj.alt_text(obj.product.name) if obj.pk else "")


# A product page in the admin lists this many variants; more are a link to the items' list,
# so a product of 400 variants is one page load, and each variant is edited on its own page.
VARIANTS_SHOWN = 50


class ProductAdmin(TranslationAdmin[Product]):
    list_display = ["name", "handle", "is_active", "variant_count", "updated_at"]
    list_filter = ["is_active", "collections"]
    search_fields = [*translated_columns("name"), "handle", "variants__sku"]
    prepopulated_fields = {"handle": ["name"]}
    readonly_fields = ["variants_table", "created_at", "updated_at"]
    fields = [
        "name",
        "handle",
        "description",
        "option1_name",
        "option2_name",
        "option3_name",
        "is_active",
        "variants_table",
        "created_at",
        "updated_at",
    ]
    inlines = [ProductImageInline, ProductCollectionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).annotate(variants_counted=Count("variants"))

    @admin.display(description=_("variants"), ordering="variants_counted")
    def variant_count(self, obj: Product) -> int:
        return int(getattr(obj, "variants_counted", 0))

    @admin.display(description=_("variants"))
    def variants_table(self, obj: Product) -> SafeString:
        if obj.pk is None:
            return format_html("<span>{}</span>", _("Save the product, then add its variants."))
        variants = list(obj.variants.order_by("position", "id")[: VARIANTS_SHOWN + 1])
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:catalog_item_change", args=[v.pk]),
                    " / ".join(v.option_values) or v.name,
                    v.sku,
                    format_amount(v.price, v.currency),
                    "—" if v.available is None else v.available,
                    gettext("yes") if v.is_active else gettext("no"),
                )
                for v in variants[:VARIANTS_SHOWN]
            ),
        )
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("variant"),
            _("SKU"),
            _("price"),
            _("available"),
            _("on sale"),
        )
        listing = reverse("admin:catalog_item_changelist") + f"?product__id__exact={obj.pk}"
        add = reverse("admin:catalog_item_add") + f"?product={obj.pk}"
        more = (
            format_html(' <a href="{}">{}</a>', listing, _("All variants"))
            if len(variants) > VARIANTS_SHOWN
            else ""
        )
        return format_html(
            '<table id="variants">{}{}</table><p><a href="{}" class="addlink">{}</a>{}</p>',
            head,
            rows,
            add,
            _("Add a variant"),
            more,
        )

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        services.product_save(product=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ProductImage:
            super().save_formset(request, form, formset, change)
            return
        # Each new picture stored with the sizes the pages show (as an item's upload).
        forms_of = {id(image_form.instance): image_form for image_form in formset.forms}
        for image in formset.save(commit=False):
            image.product = form.instance
            checked = forms_of[id(image)].checked_image()
            services.product_image_save(image=image, new_image=checked)
        for deleted in formset.deleted_objects:
            deleted.delete()

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(partial(import_products_view, self))
        own = [path("import/", view, name="catalog_product_import")]
        return own + super().get_urls()

    @admin.action(description=_("Export as Shopify CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="products.csv"'
        shopify_csv.export(response, products=queryset)
        return response

    actions = ["export_csv"]


class CollectionAdminForm(forms.ModelForm[Collection]):
    image = ItemImageField(
        label=_("image"),
        required=False,
        widget=AdminFileWidget(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )

    class Meta:
        model = Collection
        fields = ["name", "handle", "description", "image", "position", "is_active"]

    def checked_image(self) -> images.CheckedImage | None:
        upload = self.cleaned_data.get("image")
        if "image" not in self.changed_data or not isinstance(upload, UploadedFile):
            return None
        checked: images.CheckedImage = upload.checked_image  # type: ignore[attr-defined]
        return checked


class CollectionAdmin(TranslationAdmin[Collection]):
    form = CollectionAdminForm
    list_display = ["name", "handle", "position", "is_active", "updated_at"]
    list_editable = ["position", "is_active"]
    search_fields = [*translated_columns("name"), "handle"]
    prepopulated_fields = {"handle": ["name"]}
    fields = ["name", "handle", "description", "image", "position", "is_active"]
    inlines = [CollectionEntryInline]

    def save_model(self, request: HttpRequest, obj: Collection, form: Any, change: bool) -> None:
        services.collection_save(collection=obj, new_image=form.checked_image())


# A ZIP waits in the shared cache between preview and import: a bound on what it holds there.
ADMIN_ARCHIVE_MAX_MB = 50


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file, or a ZIP of it and its pictures"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.zip,application/zip"}),
        help_text=_(
            "In a ZIP, the pictures are found by the file names the CSV's Image Src and Variant "
            "Image end in. At most %(limit)s MB here; a larger archive: manage.py import_products."
        )
        % {"limit": ADMIN_ARCHIVE_MAX_MB},
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=CURRENCY_CHOICES,
        initial="usd",
        help_text=_("For rows without a Variant Currency column (Shopify's own files)."),
    )


# The file between its preview and its import, in the shared cache (any replica may answer the
# confirmation); a preview older than this is uploaded again.
IMPORT_PREVIEW_SECONDS = 30 * 60
# A preview lists this many changes, then says how many more.
CHANGES_SHOWN = 200


def import_products_view(model_admin: "ProductAdmin", request: HttpRequest) -> HttpResponse:
    """Upload a Shopify CSV, see what it would change (a dry run), then import it."""
    context: dict[str, Any] = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": gettext("Import products"),
    }
    form = ImportForm()
    if request.method == "POST" and "confirm" in request.POST:
        token = request.POST.get("token", "")
        kept = caches["default"].get(f"product-import:{token}") if token.isalnum() else None
        if kept is None:
            messages.error(request, gettext("The preview has expired: upload the file again."))
            return redirect("admin:catalog_product_import")
        try:
            summary = shopify_csv.apply(
                shopify_csv.read(kept["text"], currency=kept["currency"]),
                source=_source(kept.get("pictures")),
            )
        except shopify_csv.ImportFailed as failed:
            context["errors"] = failed.errors
        else:
            caches["default"].delete(f"product-import:{token}")
            messages.success(request, gettext("Imported: %(summary)s") % {"summary": summary})
            return redirect("admin:catalog_product_changelist")
    elif request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            context.update(_preview(form))
    context["form"] = form
    return TemplateResponse(request, "admin/catalog/import_products.html", context)


def _source(pictures: dict[str, bytes] | None) -> shopify_csv.ImageSource:
    if pictures is None:  # a CSV alone: images from URLs only (the admin has no folder)
        return shopify_csv.image_source(folder=None)
    return shopify_csv.archive_source(pictures)


def _preview(form: ImportForm) -> dict[str, Any]:
    upload = form.cleaned_data["file"]
    pictures: dict[str, bytes] | None = None
    if zipfile.is_zipfile(upload):
        if upload.size > ADMIN_ARCHIVE_MAX_MB * 1024 * 1024:
            message = gettext(
                "The archive is larger than %(limit)s MB: import it with manage.py import_products."
            ) % {"limit": ADMIN_ARCHIVE_MAX_MB}
            return {"errors": [(1, message)]}
        upload.seek(0)
        try:
            archive = shopify_csv.read_archive(upload)
        except shopify_csv.ArchiveRefused as refused:
            return {"errors": [(1, str(refused))]}
        text, pictures = archive.text, archive.pictures
    else:
        upload.seek(0)
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            return {"errors": [(1, gettext("The file is not UTF-8 text."))]}
    currency = form.cleaned_data["currency"]
    try:
        summary = shopify_csv.apply(
            shopify_csv.read(text, currency=currency),
            source=_source(pictures),
            dry_run=True,
        )
    except shopify_csv.ImportFailed as failed:
        return {"errors": failed.errors}
    token = secrets.token_hex(16)
    caches["default"].set(
        f"product-import:{token}",
        {"text": text, "currency": currency, "pictures": pictures},
        IMPORT_PREVIEW_SECONDS,
    )
    return {
        "summary": summary,
        "changes": summary.changes[:CHANGES_SHOWN],
        "more_changes": max(0, len(summary.changes) - CHANGES_SHOWN),
        "token": token,
    }
