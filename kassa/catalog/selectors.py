import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    F,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Lower
from django.http import Http404
from django.shortcuts import get_object_or_404

from kassa.catalog.models import (
    Collection,
    Item,
    Product,
    ProductImage,
    languages,
    localized,
)


def item_list() -> QuerySet[Item]:
    """The catalog: items on sale."""
    return Item.objects.filter(is_active=True)


def item_get(*, item_id: int) -> Item:
    return get_object_or_404(Item.objects.select_related("product"), pk=item_id)


@dataclass(frozen=True)
class _ItemRead:
    sql: str
    names: list[str]  # the fields' attnames, in the columns' order
    # (position, converters, column): what the ORM would apply to a value read (SQLite's
    # decimals and booleans; none on PostgreSQL)
    converters: list[tuple[int, list[Any], Any]]


@functools.cache
def _item_read() -> _ItemRead:
    quote = connection.ops.quote_name
    fields = Item._meta.concrete_fields
    columns = ", ".join(quote(str(field.column)) for field in fields)
    table = quote(Item._meta.db_table)
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(Item._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if found:
            converters.append((position, found, column))
    return _ItemRead(
        sql=f"SELECT {columns} FROM {table} WHERE id = %s",  # noqa: S608 - the model's names
        names=[field.attname for field in fields],
        converters=converters,
    )


def item_to_buy(*, item_id: int) -> Item:
    """The item a Buy click charges for, read as it is now, without its product: a variant is
    on sale with its product (taking a product off sale takes its variants off).

    Its SQL is written once per process and the row made into an Item as a queryset would
    (`Model.from_db`, with the fields' converters): building the query through the ORM, or
    reading it through `raw()`, costs two to three times reading the row, on the shop's busiest
    write."""
    read = _item_read()
    with connection.cursor() as cursor:
        cursor.execute(read.sql, [item_id])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such item.")
    values = list(row)
    for position, converters, column in read.converters:
        for convert in converters:
            values[position] = convert(values[position], column, connection)
    return Item.from_db(connection.alias, read.names, values)


def item_on_sale(*, item_id: int) -> bool:
    """On sale, and so is its product (an item whose product is off sale is off sale too)."""
    item = item_get(item_id=item_id)
    return item.is_active and (item.product is None or item.product.is_active)


# A search finds at most this many items (and one more, so the page can say there are more):
# past it, each search would cost more in a larger catalog, and nobody pages through a
# thousand results rather than adding a word.
SEARCH_RESULTS_LIMIT = 1000


def item_search(*, query: str) -> QuerySet[Item]:
    """Items whose name or description match `query`, in the catalog's order: at most
    SEARCH_RESULTS_LIMIT + 1 of them, so counting and paging them costs the same in a catalog
    of any size.

    On PostgreSQL, full-text search: the words stemmed as Russian and as English ("кружки" finds
    "Кружка", "mugs" finds "Mug"), every word of the query required, matched against each
    item's stored words (`search_vector`, GIN-indexed). Elsewhere (SQLite, for development),
    each word must appear in the name or the description, case-insensitively: a regular
    expression, because SQLite's LIKE folds the case of ASCII letters only.

    A query of exclusions alone ("-word") finds nothing: it would match most of the catalog,
    through no index."""
    if not _looks_for_something(query):
        return Item.objects.none()
    on_sale = Item.objects.filter(is_active=True)
    if connection.vendor == "postgresql":
        # websearch syntax: plain words, "quoted phrases" and -exclusions, never a syntax error.
        words = SearchQuery(query, config="russian", search_type="websearch") | SearchQuery(
            query, config="english", search_type="websearch"
        )
        matches = on_sale.filter(search_vector=words)
    else:
        condition = Q()
        columns = [localized(f, code) for f in ("name", "description") for code in languages()]
        for word in query.split():
            pattern = re.escape(word)
            either = Q()
            for column in columns:  # any language's text, as the stored words on PostgreSQL
                either |= Q(**{f"{column}__iregex": pattern})
            condition &= either
        matches = on_sale.filter(condition)
    # The first matches found, in no order (an order would mean finding them all first); then
    # those in the catalog's order, by the name's lower case (a sort of at most
    # SEARCH_RESULTS_LIMIT + 1 rows).
    found = Subquery(matches.order_by().values("pk")[: SEARCH_RESULTS_LIMIT + 1])
    if connection.vendor == "postgresql":
        # id = ANY(ARRAY(...)): the matches are found once, then their rows by primary key. An
        # IN (...) lets PostgreSQL join them to a scan of the whole table instead.
        ids = Func(
            found, template="ARRAY%(expressions)s", output_field=ArrayField(BigIntegerField())
        )
        return Item.objects.filter(_AnyOf(F("pk"), ids)).order_by(Lower("name"), "id")
    return Item.objects.filter(pk__in=found).order_by(Lower("name"), "id")


class _AnyOf(Func):
    """`column = ANY(array)`, as a condition."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def _looks_for_something(query: str) -> bool:
    return any(
        word.strip('"') and not word.startswith("-") and word.lower() != "or"
        for word in query.split()
    )


@dataclass(frozen=True)
class ItemPage:
    """One page of a list of items (or of product cards), and where the others are."""

    items: list[Any]
    number: int
    num_pages: int
    count: int
    # Page numbers to link, None where the list skips some (1 … 4 5 6 … 40).
    links: list[int | None]


def item_page(*, items: QuerySet[Item], number: int, count: int, size: int) -> ItemPage:
    """Page `number` of `items` (`count` of them), `size` a page; a number past the last page is
    the last page. One query: the page's rows."""
    # The paginator does the arithmetic only: it is given a range, so it never counts rows.
    pages = Paginator(range(count), size, allow_empty_first_page=True)
    number = min(number, pages.num_pages)
    start = (number - 1) * size
    return ItemPage(
        items=list(items[start : min(start + size, count)]) if count else [],
        number=number,
        num_pages=pages.num_pages,
        count=count,
        links=[
            None if link == Paginator.ELLIPSIS else int(link)
            for link in pages.get_elided_page_range(number, on_each_side=2, on_ends=1)
        ],
    )


# Products: the catalog's cards, a product's page, collections and their filters.


@dataclass(frozen=True)
class Picture:
    url: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class ProductCard:
    """What a catalog card shows of a product: its first variant on sale (the picture, and the
    one Buy/Add when it has no other), the range of its variants' prices and whether any is left."""

    product: Product
    lead: Item
    min_price: Decimal
    max_price: Decimal
    variant_count: int
    sold_out: bool
    # The product's first gallery image, shown when the lead variant has none of its own.
    gallery_image: "ProductImage | None" = None

    @property
    def picture(self) -> "Picture | None":
        lead = self.lead
        if lead.card_image:
            return Picture(
                lead.card_image.url, lead.card_width, lead.card_height, lead.image_alt_text()
            )
        shown = self.gallery_image
        if shown is not None and shown.card_image:
            return Picture(
                shown.card_image.url,
                shown.card_width,
                shown.card_height,
                shown.alt_text(self.product.name),
            )
        return None

    @property
    def single(self) -> bool:
        return self.variant_count == 1

    @property
    def price_varies(self) -> bool:
        return self.min_price != self.max_price

    @property
    def url(self) -> str:
        return self.product.get_absolute_url()


def _on_sale_variants() -> QuerySet[Item]:
    return Item.objects.filter(product=OuterRef("pk"), is_active=True)


def _in_stock() -> Q:
    return Q(stock__isnull=True) | Q(stock__gt=F("reserved"))


def product_list() -> QuerySet[Product]:
    """The catalog: products on sale with at least one variant on sale, by name."""
    return Product.objects.filter(is_active=True).filter(Exists(_on_sale_variants()))


def product_search(*, query: str) -> QuerySet[Product]:
    """Products with a variant matching `query` (item_search's words), by name."""
    matches = item_search(query=query)
    return product_list().filter(pk__in=Subquery(matches.order_by().values("product_id")))


def _with_card_figures(products: QuerySet[Product]) -> QuerySet[Product]:
    """Each product with its card's figures, computed in the same query (one subquery per
    figure, over the product's own variants through their index)."""

    def figure(expression: Any) -> Subquery:
        return Subquery(
            _on_sale_variants().order_by().values("product").annotate(v=expression).values("v")[:1]
        )

    return products.annotate(
        lead_id=Subquery(_on_sale_variants().order_by("position", "id").values("pk")[:1]),
        gallery_id=Subquery(
            ProductImage.objects.filter(product=OuterRef("pk"))
            .order_by("position", "id")
            .values("pk")[:1]
        ),
        min_price=figure(Min("price")),
        max_price=figure(Max("price")),
        variant_count=figure(Count("pk")),
        in_stock_count=Subquery(
            _on_sale_variants()
            .filter(_in_stock())
            .order_by()
            .values("product")
            .annotate(v=Count("pk"))
            .values("v")[:1]
        ),
    )


def product_cards(products: QuerySet[Product], *, start: int, stop: int) -> list[ProductCard]:
    """Cards for products[start:stop]: two queries whatever the page's size or the products'
    variants (the products with their figures, then their lead variants by primary key)."""
    # Annotated rows: the figures are attributes the model does not declare.
    rows: list[Any] = list(_with_card_figures(products)[start:stop])
    leads = Item.objects.in_bulk([row.lead_id for row in rows if row.lead_id])
    # Gallery images only for leads without a picture: none at all (no query) in a catalog
    # whose variants have their own.
    wanted = [
        row.gallery_id
        for row in rows
        if row.gallery_id and row.lead_id in leads and not leads[row.lead_id].card_image
    ]
    gallery = ProductImage.objects.in_bulk(wanted) if wanted else {}
    return [
        ProductCard(
            product=row,
            lead=leads[row.lead_id],
            min_price=row.min_price,
            max_price=row.max_price,
            variant_count=row.variant_count,
            sold_out=not row.in_stock_count,
            gallery_image=gallery.get(row.gallery_id),
        )
        for row in rows
        if row.lead_id in leads
    ]


def card_page(*, products: QuerySet[Product], number: int, count: int, size: int) -> ItemPage:
    """Page `number` of the cards of `products` (`count` of them), as item_page pages items."""
    pages = Paginator(range(count), size, allow_empty_first_page=True)
    number = min(number, pages.num_pages)
    start = (number - 1) * size
    return ItemPage(
        items=product_cards(products, start=start, stop=min(start + size, count)) if count else [],
        number=number,
        num_pages=pages.num_pages,
        count=count,
        links=[
            None if link == Paginator.ELLIPSIS else int(link)
            for link in pages.get_elided_page_range(number, on_each_side=2, on_ends=1)
        ],
    )


def product_get(*, handle: str) -> Product:
    return get_object_or_404(Product, handle=handle)


def product_gallery(*, product: Product) -> list[ProductImage]:
    """The product's own images, in their order (one query through their index)."""
    return list(product.images.order_by("position", "id"))


def product_variants(*, product: Product) -> list[Item]:
    """The product's variants on sale, in their order (one query through their index)."""
    return list(product.variants.filter(is_active=True).order_by("position", "id"))


def variants_of(*, products: list[Product]) -> dict[int, list[Item]]:
    """The variants on sale of each of `products`, in order: one query for them all."""
    found: dict[int, list[Item]] = {product.pk: [] for product in products}
    variants = Item.objects.filter(product__in=[p.pk for p in products], is_active=True)
    for variant in variants.order_by("product_id", "position", "id"):
        found[variant.product_id].append(variant)  # type: ignore[index]
    return found


def collection_list() -> QuerySet[Collection]:
    """Collections shown in the header and the sitemap, in their order."""
    return Collection.objects.filter(is_active=True)


def collection_get(*, handle: str) -> Collection:
    return get_object_or_404(Collection, handle=handle, is_active=True)


@dataclass(frozen=True)
class ProductFilters:
    """What a collection's filters ask for: option values (name → any of these values), a
    price range in major units, and only what is in stock."""

    options: dict[str, list[str]]
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False

    @property
    def active(self) -> bool:
        return bool(self.options or self.min_price or self.max_price or self.in_stock)


def _variant_condition(filters: ProductFilters) -> Q:
    """The condition one variant must meet: every filter at once, on the same variant (an M in
    stock, not an M sold out beside an L in stock)."""
    condition = Q()
    for name, values in filters.options.items():
        either = Q()
        for index in (1, 2, 3):
            either |= Q(**{f"product__option{index}_name": name, f"option{index}__in": values})
        condition &= either
    if filters.min_price is not None:
        condition &= Q(price__gte=filters.min_price)
    if filters.max_price is not None:
        condition &= Q(price__lte=filters.max_price)
    if filters.in_stock:
        condition &= _in_stock()
    return condition


def filtered(products: QuerySet[Product], filters: ProductFilters) -> QuerySet[Product]:
    if not filters.active:
        return products
    return products.filter(Exists(_on_sale_variants().filter(_variant_condition(filters))))


def collection_products(*, collection: Collection) -> QuerySet[Product]:
    """The collection's products on sale, in the collection's own order."""
    return (
        product_list()
        .filter(entries__collection=collection)
        .order_by("entries__position", "entries__id")
    )


def option_facets(*, products: QuerySet[Product]) -> dict[str, list[str]]:
    """The option names of `products` and the values their variants on sale have, sorted: what
    a collection's filter offers. Three queries (one per option position)."""
    found: dict[str, set[str]] = {}
    variants = Item.objects.filter(is_active=True, product__in=products.order_by().values("pk"))
    for index in (1, 2, 3):
        pairs = (
            variants.exclude(**{f"option{index}": ""})
            .order_by()
            .values_list(f"product__option{index}_name", f"option{index}")
            .distinct()
        )
        for name, value in pairs:
            found.setdefault(name, set()).add(value)
    return {name: sorted(values, key=str.casefold) for name, values in sorted(found.items())}
