"""Shopify's product CSV, read and written: the interchange format shop owners already have.

A file is read whole into plans (one per Handle: the product, its variants, its images) and
checked before anything is written: any error, reported with its line number, and nothing of the
file is written. Applying a plan matches variants by SKU, then by handle and option values, so
importing the same file again changes nothing and a changed price or stock updates in place.
Collections come from a `Collection` column of our own (titles, comma-separated).
"""

import csv
import html
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import nh3
import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone, translation
from django.utils.text import slugify

from kassa.catalog import images, revision
from kassa.catalog.models import (
    ITEM_TEXTS,
    MAX_STOCK,
    PRODUCT_TEXTS,
    Collection,
    CollectionProduct,
    Item,
    Product,
    ProductImage,
    localized,
)
from kassa.catalog.services import item_save, product_image_save
from kassa.common.money import CURRENCIES, MoneyError, validate_amount

COLUMNS = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Type",
    "Tags",
    "Published",
    "Option1 Name",
    "Option1 Value",
    "Option2 Name",
    "Option2 Value",
    "Option3 Name",
    "Option3 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Qty",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Requires Shipping",
    "Image Src",
    "Image Position",
    "Image Alt Text",
    "Variant Image",
    "Status",
    # Ours, beyond Shopify's: the product's collections (titles, comma-separated) and the
    # variant's currency (a Shopify shop has one; without the column, --currency says).
    "Collection",
    "Variant Currency",
]
REQUIRED = ["Handle", "Title", "Variant Price"]
# Shopify's way of saying "no options": one option "Title" of value "Default Title".
DEFAULT_OPTION = ("Title", "Default Title")
# What a product's body may keep of its HTML: text formatting and links, nothing that runs.
BODY_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "h2", "h3", "h4", "a"}
IMAGE_FETCH_TIMEOUT = 10
M = TypeVar("M")
HANDLE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,199}$")


class SupportsWrite(Protocol):
    def write(self, text: str, /) -> object: ...


class ImportFailed(Exception):
    """The file has errors: (line, message) each, the header being line 1."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"line {line}: {message}" for line, message in errors))
        self.errors = errors


@dataclass
class VariantPlan:
    line: int
    options: tuple[str, str, str]
    sku: str
    price: Decimal
    currency: str
    stock: int | None
    requires_shipping: bool
    image: str


@dataclass
class ProductPlan:
    line: int
    handle: str
    title: str
    body_html: str
    is_active: bool
    option_names: tuple[str, str, str]
    variants: list[VariantPlan] = field(default_factory=list)
    images: list[tuple[int, str, str]] = field(default_factory=list)  # (position, src, alt)
    image_lines: dict[str, int] = field(default_factory=dict)  # where each src is named first
    collections: list[str] = field(default_factory=list)


@dataclass
class Summary:
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    unchanged: int = 0
    collections_created: int = 0
    images: int = 0
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.products_created} products created, {self.products_updated} updated; "
            f"{self.variants_created} variants created, {self.variants_updated} updated, "
            f"{self.unchanged} unchanged; {self.collections_created} collections created; "
            f"{self.images} images."
        )


# --- Reading -------------------------------------------------------------------------------------


def sanitise_body(body: str) -> str:
    """A body of HTML from another system, with only formatting and http(s) links left."""
    return nh3.clean(
        body,
        tags=BODY_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    ).strip()


class _Text(HTMLParser):
    """HTML as plain text: paragraphs and line breaks kept, everything else dropped."""

    BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def body_text(body: str) -> str:
    parser = _Text()
    parser.feed(body)
    parser.close()
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _bool(value: str, default: bool) -> bool:
    value = value.strip().lower()
    if not value:
        return default
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise ValueError(value)


def read(text: str, *, currency: str) -> list[ProductPlan]:
    """The file's products, checked; ImportFailed with every error found otherwise."""
    errors: list[tuple[int, str]] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFailed([(1, f"missing columns: {', '.join(missing)}")])
    plans: dict[str, ProductPlan] = {}
    skus: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        cell = {name: (row.get(name) or "").strip() for name in COLUMNS}
        try:
            _read_row(cell, line, plans, skus, currency)
        except ValueError as exc:
            errors.append((line, str(exc)))
    for plan in plans.values():
        if not plan.variants:
            errors.append((plan.line, f"{plan.handle}: no variant with a price"))
    if errors:
        raise ImportFailed(sorted(errors))
    return list(plans.values())


def _read_row(
    cell: dict[str, str],
    line: int,
    plans: dict[str, ProductPlan],
    skus: dict[str, int],
    currency: str,
) -> None:
    handle = cell["Handle"]
    if not HANDLE.match(handle):
        raise ValueError(f"the handle {handle!r} is not lower-case letters, digits and hyphens")
    plan = plans.get(handle)
    if plan is None:
        if not cell["Title"]:
            raise ValueError(f"{handle}: the first row of a product needs its Title")
        names = tuple(cell[f"Option{n} Name"] for n in (1, 2, 3))
        if (names[0], cell["Option1 Value"]) == DEFAULT_OPTION:
            names = ("", "", "")
        if any(later and not earlier for earlier, later in itertools.pairwise(names)):
            raise ValueError(f"{handle}: fill Option1 Name before Option2 Name")
        try:
            published = _bool(cell["Published"], True)
        except ValueError as exc:
            raise ValueError(f"Published must be TRUE or FALSE, not {exc}") from exc
        status = cell["Status"].lower() or "active"
        if status not in ("active", "draft", "archived"):
            raise ValueError(f"Status must be active, draft or archived, not {cell['Status']!r}")
        body = sanitise_body(cell["Body (HTML)"])
        plan = plans[handle] = ProductPlan(
            line=line,
            handle=handle,
            title=cell["Title"][:200],
            body_html=body,
            is_active=published and status == "active",
            option_names=(names[0], names[1], names[2]),
            collections=[c.strip() for c in cell["Collection"].split(",") if c.strip()],
        )
    if cell["Image Src"]:
        position = cell["Image Position"] or str(len(plan.images) + 1)
        if not position.isdigit():
            raise ValueError(f"Image Position must be a number, not {position!r}")
        plan.images.append((int(position), cell["Image Src"], cell["Image Alt Text"][:300]))
        plan.image_lines.setdefault(cell["Image Src"], line)
    if not (cell["Variant Price"] or cell["Variant SKU"] or cell["Option1 Value"]):
        return  # an image row
    _read_variant(cell, line, plan, skus, currency)


def _read_variant(
    cell: dict[str, str], line: int, plan: ProductPlan, skus: dict[str, int], currency: str
) -> None:
    count = len([n for n in plan.option_names if n])
    values = tuple(cell[f"Option{n} Value"][:100] for n in (1, 2, 3))
    if count == 0:
        values = ("", "", "")
    if any(not values[i] for i in range(count)):
        raise ValueError(f"{plan.handle}: every option needs a value")
    if any(values[i] for i in range(count, 3)):
        raise ValueError(f"{plan.handle}: a value for an option the product does not have")
    if count == 0 and plan.variants:
        raise ValueError(f"{plan.handle}: a product without options has one variant only")
    if any(v.options == values for v in plan.variants):
        raise ValueError(f"{plan.handle}: two variants with the options {' / '.join(values)}")
    currency = cell["Variant Currency"].lower() or currency
    if currency not in CURRENCIES:
        raise ValueError(
            f"Variant Currency {cell['Variant Currency']!r} is not one the shop sells in"
        )
    if plan.variants and plan.variants[0].currency != currency:
        raise ValueError(f"{plan.handle}: every variant of a product is in one currency")
    try:
        price = Decimal(cell["Variant Price"].replace(",", ""))
        validate_amount(price, currency)
    except (InvalidOperation, MoneyError) as exc:
        raise ValueError(f"Variant Price {cell['Variant Price']!r} is not a price") from exc
    quantity = cell["Variant Inventory Qty"]
    stock: int | None = None
    if quantity:
        if not (quantity.isascii() and quantity.lstrip("-").isdigit()):
            raise ValueError(f"Variant Inventory Qty {quantity!r} is not a whole number")
        stock = min(max(int(quantity), 0), MAX_STOCK)
    try:
        shipping = _bool(cell["Variant Requires Shipping"], True)
    except ValueError as exc:
        raise ValueError(f"Variant Requires Shipping must be TRUE or FALSE, not {exc}") from exc
    sku = cell["Variant SKU"][:100]
    if sku:
        if sku in skus:
            raise ValueError(f"the SKU {sku} is on line {skus[sku]} too")
        skus[sku] = line
    plan.variants.append(
        VariantPlan(
            line=line,
            options=(values[0], values[1], values[2]),
            sku=sku,
            price=price,
            currency=currency,
            stock=stock,
            requires_shipping=shipping,
            image=cell["Variant Image"],
        )
    )


# --- Writing to the catalog ----------------------------------------------------------------------

ImageSource = Callable[[str], bytes]


def image_source(*, folder: Path | None) -> ImageSource:
    """Image bytes for an Image Src: a file of that name in `folder`, or an http(s) URL fetched
    with a timeout."""

    def fetch(src: str) -> bytes:
        if src.startswith(("http://", "https://")):
            response = requests.get(src, timeout=IMAGE_FETCH_TIMEOUT)
            response.raise_for_status()
            return response.content
        if folder is None:
            raise ValueError(f"{src}: no image folder given (--images DIR)")
        path = (folder / Path(src).name).resolve()
        if folder.resolve() not in path.parents or not path.is_file():
            raise ValueError(f"{src}: no such file in {folder}")
        return path.read_bytes()

    return fetch


class ArchiveRefused(ValueError):
    """A ZIP the import does not take, with the reason in staff's words."""


# A ZIP holds a shop's CSV and its pictures: each picture is checked against SHOP_MAX_IMAGE_MB
# as it is read; these bound the rest, whatever the archive's own headers claim.
MAX_ARCHIVE_CSV_BYTES = 100 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 20_000
MAX_ARCHIVE_TOTAL_BYTES = 2 * 1024 * 1024 * 1024


@dataclass
class Archive:
    """A ZIP's CSV text and its pictures by file name (Image Src's last part)."""

    name: str
    text: str
    pictures: dict[str, bytes]


def read_archive(data: "io.BufferedIOBase | bytes") -> Archive:
    """The one CSV of a ZIP and its files by name, each read no further than its limit (an
    archive's sizes are its own claim); ArchiveRefused with the reason otherwise."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveRefused("The file is not a ZIP archive.") from exc
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir()
            and not m.filename.startswith("__MACOSX/")
            and not Path(m.filename).name.startswith(".")
        ]
        if len(members) > MAX_ARCHIVE_MEMBERS:
            raise ArchiveRefused(f"The archive holds more than {MAX_ARCHIVE_MEMBERS} files.")
        if any(m.flag_bits & 0x1 for m in members):
            raise ArchiveRefused("The archive is encrypted: make one without a password.")
        csvs = [m for m in members if m.filename.lower().endswith(".csv")]
        if len(csvs) != 1:
            found = ", ".join(m.filename for m in csvs) or "none"
            raise ArchiveRefused(f"The archive must hold exactly one .csv file (found: {found}).")
        limit = images.max_upload_bytes()
        total = 0
        pictures: dict[str, bytes] = {}
        for member in members:
            if member is csvs[0]:
                continue
            name = Path(member.filename).name
            content = _member(archive, member, limit)
            if content is None:
                raise ArchiveRefused(
                    f"{member.filename}: larger than {images.max_upload_mb()} MB, the most "
                    "an image may be."
                )
            total += len(content)
            if total > MAX_ARCHIVE_TOTAL_BYTES:
                raise ArchiveRefused("The archive's files add up to more than 2 GB.")
            if name in pictures and pictures[name] != content:
                raise ArchiveRefused(
                    f"Two different files are named {name}: images are found by file name."
                )
            pictures[name] = content
        raw = _member(archive, csvs[0], MAX_ARCHIVE_CSV_BYTES)
    if raw is None:
        raise ArchiveRefused(f"{csvs[0].filename} is larger than 100 MB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArchiveRefused(f"{csvs[0].filename} is not UTF-8 text.") from exc
    return Archive(name=csvs[0].filename, text=text, pictures=pictures)


def _member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The member's bytes, or None past `limit` (read at most one byte further)."""
    try:
        with archive.open(member) as opened:
            content = opened.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise ArchiveRefused(f"{member.filename}: the archive is damaged ({exc}).") from exc
    return None if len(content) > limit else content


def src_name(src: str) -> str:
    """The file name an Image Src names: an URL's last part without its query
    (https://cdn.shopify.com/.../shirt.jpg?v=1 → shirt.jpg), or a path's."""
    return Path(urlsplit(src).path).name


def archive_source(pictures: dict[str, bytes]) -> ImageSource:
    """Image bytes from an archive's files, by the name an Image Src ends in; a URL whose file
    is not in the archive is fetched, with a timeout."""
    fetch = image_source(folder=None)

    def find(src: str) -> bytes:
        name = src_name(src)
        if name in pictures:
            return pictures[name]
        if src.startswith(("http://", "https://")):
            return fetch(src)
        raise ValueError(f"no file named {name} in the archive")

    return find


def _checked_images(
    plans: list[ProductPlan], source: ImageSource | None
) -> dict[str, images.CheckedImage]:
    """Every image the file names, fetched and checked as uploads are, before anything is
    written (an image that cannot be had is an error of its line)."""
    found: dict[str, images.CheckedImage] = {}
    if source is None:
        return found
    errors = []
    for plan in plans:
        wanted = [(plan.image_lines.get(src, plan.line), src) for _p, src, _alt in plan.images]
        wanted += [(v.line, v.image) for v in plan.variants if v.image]
        for line, src in wanted:
            if src in found:
                continue
            try:
                found[src] = images.check_upload(ContentFile(source(src), name=Path(src).name))
            except (ValueError, OSError, requests.RequestException) as exc:
                errors.append((line, f"image {src}: {exc}"))
    if errors:
        raise ImportFailed(errors)
    return found


def apply(
    plans: list[ProductPlan],
    *,
    source: ImageSource | None = None,
    dry_run: bool = False,
) -> Summary:
    """Write `plans` to the catalog in one transaction (rolled back with `dry_run`, after
    counting what would change); ImportFailed, and nothing written, on any error."""
    pictures = _checked_images(plans, source)
    summary = Summary()
    try:
        # A file's texts are the shop's main language's, whatever language staff read the
        # admin in (reading and writing `name` then means the main language's column).
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            _apply(plans, pictures=pictures, summary=summary)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return summary


class _DryRun(Exception):
    pass


def with_main_language(fields: list[str]) -> list[str]:
    """`fields` and, for each translated one, its main language's column, which a bulk write
    must name itself (no save() keeps them in step)."""
    texts = set(PRODUCT_TEXTS) | set(ITEM_TEXTS)
    return [*fields, *(localized(field) for field in fields if field in texts)]


PRODUCT_FIELDS = [
    "name",
    "description",
    "body_html",
    "is_active",
    "option1_name",
    "option2_name",
    "option3_name",
    "updated_at",
]


class _Batch:
    """What an import writes, gathered so it is written in bulk: a file of 10,000 rows is a
    few dozen statements, not tens of thousands (signals are not sent: the revision is bumped
    once at the end, as bulk writers must)."""

    def __init__(self) -> None:
        self.new_items: list[Item] = []
        # Changed items by the fields that changed: a new price or stock rewrites those
        # columns only (the name's search words are not parsed again).
        self.changed_items: dict[frozenset[str], list[Item]] = {}
        self.pictured: list[tuple[Item, images.CheckedImage]] = []


def _apply(
    plans: list[ProductPlan],
    *,
    pictures: dict[str, images.CheckedImage],
    summary: Summary,
) -> None:
    now = timezone.now()
    products = {
        p.handle: p
        for p in _in_chunks(Product.objects.all(), "handle__in", [p.handle for p in plans])
    }
    new_products = [
        Product(handle=plan.handle, **_product_values(plan))
        for plan in plans
        if plan.handle not in products
    ]
    for product in Product.objects.bulk_create(new_products, batch_size=1000):
        products[product.handle] = product
        summary.products_created += 1
        summary.changes.append(f"+ product {product.handle}")
    created = {p.handle for p in new_products}
    changed_products = []
    for plan in plans:
        product = products[plan.handle]
        wanted = _product_values(plan)
        if plan.handle in created or all(getattr(product, k) == v for k, v in wanted.items()):
            continue
        if product.is_active != plan.is_active:
            Item.objects.filter(product=product).update(is_active=plan.is_active)
        for k, v in wanted.items():
            setattr(product, k, v)
        product.updated_at = now
        changed_products.append(product)
        summary.products_updated += 1
        summary.changes.append(f"~ product {plan.handle}")
    Product.objects.bulk_update(
        changed_products, with_main_language(PRODUCT_FIELDS), batch_size=1000
    )

    skus = [v.sku for p in plans for v in p.variants if v.sku]
    by_sku = {i.sku: i for i in _in_chunks(Item.objects.all(), "sku__in", skus)}
    variants: dict[int, list[Item]] = {}
    ids = [p.pk for p in products.values()]
    for item in _in_chunks(Item.objects.all(), "product_id__in", ids):
        variants.setdefault(item.product_id or 0, []).append(item)
    errors: list[tuple[int, str]] = []
    batch = _Batch()
    for plan in plans:
        product = products[plan.handle]
        description = body_text(plan.body_html)
        siblings = {(i.option1, i.option2, i.option3): i for i in variants.get(product.pk, [])}
        for position, variant in enumerate(plan.variants):
            found: Item | None = by_sku.get(variant.sku) if variant.sku else None
            found = found or siblings.get(variant.options)
            # A variant's own picture; the Image Src ones are the product's gallery.
            picture = pictures.get(variant.image) if variant.image else None
            error = _variant(
                found, product, plan, variant, position, description, picture, summary, batch
            )
            if error:
                errors.append((variant.line, error))
    if errors:
        raise ImportFailed(errors)
    for item in batch.new_items:
        item.updated_at = now
    Item.objects.bulk_create(batch.new_items, batch_size=1000)
    for fields, items in batch.changed_items.items():
        for item in items:
            item.updated_at = now
        names = sorted(field.removesuffix("_id") for field in fields)
        Item.objects.bulk_update(items, with_main_language([*names, "updated_at"]), batch_size=1000)
    for item, picture in batch.pictured:
        item_save(item=item, new_image=picture)
    _gallery(plans, products, pictures, summary)
    _collect(plans, products, summary)
    revision.bump()


def _gallery(
    plans: list[ProductPlan],
    products: dict[str, Product],
    pictures: dict[str, images.CheckedImage],
    summary: Summary,
) -> None:
    """Each product's Image Src pictures as its gallery, found again by their Image Src on a
    later import (a new position or description updates them; none is deleted)."""
    ids = [products[plan.handle].pk for plan in plans if plan.images]
    have = {
        (image.product_id, image.source): image
        for image in _in_chunks(ProductImage.objects.all(), "product_id__in", ids)
    }
    for plan in plans:
        product = products[plan.handle]
        for position, src, alt in sorted(plan.images):
            picture = pictures.get(src)
            if picture is None:
                continue
            found = have.get((product.pk, src))
            if found is None:
                image = ProductImage(product=product, position=position, alt=alt, source=src)
                have[(product.pk, src)] = image
                product_image_save(image=image, new_image=picture)
                summary.images += 1
                summary.changes.append(f"+ image {src_name(src)} of {plan.handle}")
            elif (found.position, found.alt) != (position, alt):
                found.position, found.alt = position, alt
                found.save()
                summary.changes.append(f"~ image {src_name(src)} of {plan.handle}")


def _product_values(plan: ProductPlan) -> dict[str, object]:
    return {
        "name": plan.title,
        "description": body_text(plan.body_html)[:20000],
        "body_html": plan.body_html,
        "is_active": plan.is_active,
        "option1_name": plan.option_names[0],
        "option2_name": plan.option_names[1],
        "option3_name": plan.option_names[2],
    }


def _variant(
    item: Item | None,
    product: Product,
    plan: ProductPlan,
    variant: VariantPlan,
    position: int,
    description: str,
    picture: images.CheckedImage | None,
    summary: Summary,
    batch: _Batch,
) -> str:
    """Plan one variant's creation or update; the error's words, or "" when all is well."""
    values = variant.options
    name = plan.title + (f" — {' / '.join(v for v in values if v)}" if any(values) else "")
    wanted: dict[str, object] = {
        "product_id": product.pk,
        "name": name[:200],
        # A product without options mirrors its one variant (kassa.catalog.models.Item.save).
        "description": "" if any(values) else description[:5000],
        "price": variant.price,
        "currency": variant.currency,
        "stock": variant.stock,
        "requires_shipping": variant.requires_shipping,
        "option1": values[0],
        "option2": values[1],
        "option3": values[2],
        "position": position,
        "sku": variant.sku,
        "is_active": plan.is_active,
    }
    created = item is None
    if item is None:
        item = Item(**wanted)
    elif item.product_id not in (None, product.pk):
        return f"the SKU {variant.sku} belongs to another product's variant"
    elif item.reserved and variant.stock is not None and variant.stock < item.reserved:
        return f"{item.reserved} units are held by checkouts: the stock cannot be less"
    differ = frozenset(k for k, v in wanted.items() if created or getattr(item, k) != v)
    changed = bool(differ)
    new_picture = picture if picture and (created or not item.image) else None
    if not changed and new_picture is None:
        summary.unchanged += 1
        return ""
    for k, v in wanted.items():
        setattr(item, k, v)
    if new_picture is not None:
        item.image_alt = next((alt for _p, s, alt in plan.images if s == variant.image), "")[:300]
        summary.images += 1
        batch.pictured.append((item, new_picture))
    elif created:
        batch.new_items.append(item)
    else:
        batch.changed_items.setdefault(differ, []).append(item)
    if created:
        summary.variants_created += 1
        summary.changes.append(f"+ variant {name}")
    else:
        summary.variants_updated += 1
        summary.changes.append(f"~ variant {name}")
    return ""


def _collect(plans: list[ProductPlan], products: dict[str, Product], summary: Summary) -> None:
    """The products into the collections their rows name, made where missing; a product
    already in one keeps its place."""
    collections = {c.name: c for c in Collection.objects.all()}
    taken = set(Collection.objects.values_list("handle", flat=True))
    for title in dict.fromkeys(t for plan in plans for t in plan.collections):
        if title in collections:
            continue
        base = slugify(title) or "collection"
        handle, n = base, 1
        while handle in taken:
            n += 1
            handle = f"{base}-{n}"
        taken.add(handle)
        collections[title] = Collection.objects.create(name=title, handle=handle)
        summary.collections_created += 1
        summary.changes.append(f"+ collection {title}")
    ids = [products[plan.handle].pk for plan in plans if plan.collections]
    have = set(
        _in_chunks(
            CollectionProduct.objects.values_list("collection_id", "product_id"),
            "product_id__in",
            ids,
        )
    )
    ends = dict(
        CollectionProduct.objects.values("collection_id")
        .annotate(end=Max("position"))
        .values_list("collection_id", "end")
    )
    entries = []
    for plan in plans:
        product = products[plan.handle]
        for title in plan.collections:
            collection = collections[title]
            if (collection.pk, product.pk) in have:
                continue
            have.add((collection.pk, product.pk))
            ends[collection.pk] = position = ends.get(collection.pk, -1) + 1
            entries.append(
                CollectionProduct(collection=collection, product=product, position=position)
            )
            summary.changes.append(f"+ {plan.handle} in {title}")
    CollectionProduct.objects.bulk_create(entries, batch_size=1000)


def _in_chunks(rows: QuerySet[Any, M], lookup: str, values: Sequence[object]) -> Iterator[M]:
    """rows.filter(lookup=values), a chunk at a time (SQLite takes 999 parameters at most)."""
    for start in range(0, len(values), 500):
        yield from rows.filter(**{lookup: values[start : start + 500]})


# --- Exporting -----------------------------------------------------------------------------------


def body_html_of(product: Product) -> str:
    if product.body_html:
        return product.body_html
    paragraphs = [p.strip() for p in product.description.split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def export(
    out: SupportsWrite,
    *,
    image_src: Callable[[Item | ProductImage], str] | None = None,
    products: QuerySet[Product] | None = None,
) -> int:
    """Every product (or those of `products`) and its variants as Shopify's CSV; returns the
    number of rows."""
    with translation.override(settings.LANGUAGE_CODE):  # the main language's texts
        return _export(out, image_src=image_src, products=products)


def _export(
    out: SupportsWrite,
    *,
    image_src: Callable[[Item | ProductImage], str] | None,
    products: QuerySet[Product] | None,
) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    memberships: dict[int, list[str]] = {}
    for entry in CollectionProduct.objects.select_related("collection").order_by("pk"):
        memberships.setdefault(entry.product_id, []).append(entry.collection.name)
    products = (products if products is not None else Product.objects.all()).order_by("pk")
    for start in range(0, products.count(), 500):
        chunk = list(products[start : start + 500])
        items: dict[int, list[Item]] = {}
        for item in Item.objects.filter(product__in=chunk).order_by("product_id", "position", "id"):
            items.setdefault(item.product_id or 0, []).append(item)
        gallery: dict[int, list[ProductImage]] = {}
        for image in ProductImage.objects.filter(product__in=chunk).order_by(
            "product_id", "position", "id"
        ):
            gallery.setdefault(image.product_id, []).append(image)
        for product in chunk:
            pictures = gallery.get(product.pk, []) if image_src else []
            for n, item in enumerate(items.get(product.pk, [])):
                row = _row(
                    product, item, first=n == 0, memberships=memberships, image_src=image_src
                )
                if n == 0 and pictures and image_src:
                    _image_cells(row, pictures[0], image_src)
                writer.writerow(row)
                rows += 1
            # The rest of the gallery: image rows, as Shopify writes them.
            for picture in pictures[1:] if items.get(product.pk) else []:
                row = [""] * len(COLUMNS)
                row[COLUMNS.index("Handle")] = product.handle
                _image_cells(row, picture, image_src)  # type: ignore[arg-type]
                writer.writerow(row)
    return rows


def _image_cells(
    row: list[str], picture: ProductImage, image_src: Callable[[Item | ProductImage], str]
) -> None:
    row[COLUMNS.index("Image Src")] = image_src(picture)
    row[COLUMNS.index("Image Position")] = str(picture.position)
    row[COLUMNS.index("Image Alt Text")] = picture.alt


def _row(
    product: Product,
    item: Item,
    *,
    first: bool,
    memberships: dict[int, list[str]],
    image_src: Callable[[Item | ProductImage], str] | None,
) -> list[str]:
    names = [product.option1_name, product.option2_name, product.option3_name]
    values = [item.option1, item.option2, item.option3]
    if not any(names):
        names, values = ["Title", "", ""], ["Default Title", "", ""]
    src = image_src(item) if image_src and item.image else ""
    cell = {
        "Handle": product.handle,
        "Variant SKU": item.sku,
        "Variant Inventory Qty": "" if item.stock is None else str(item.stock),
        "Variant Price": format(item.price.normalize(), "f"),
        "Variant Currency": item.currency.upper(),
        "Variant Requires Shipping": "TRUE" if item.requires_shipping else "FALSE",
        "Variant Image": src,
        "Option1 Value": values[0],
        "Option2 Value": values[1],
        "Option3 Value": values[2],
    }
    if first:
        cell.update(
            {
                "Title": product.name,
                "Body (HTML)": body_html_of(product),
                "Published": "TRUE" if product.is_active else "FALSE",
                "Status": "active" if product.is_active else "draft",
                "Option1 Name": names[0],
                "Option2 Name": names[1],
                "Option3 Name": names[2],
                "Collection": ", ".join(memberships.get(product.pk, [])),
            }
        )
    return [cell.get(name, "") for name in COLUMNS]
