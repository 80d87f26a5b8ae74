import re
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BigIntegerField, BooleanField, F, Func, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from kassa.catalog.models import Item


def item_list() -> QuerySet[Item]:
    """The catalog: items on sale."""
    return Item.objects.filter(is_active=True)


def item_get(*, item_id: int) -> Item:
    return get_object_or_404(Item, pk=item_id)


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
        for word in query.split():
            pattern = re.escape(word)
            condition &= Q(name__iregex=pattern) | Q(description__iregex=pattern)
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
    """One page of a list of items, and where the others are."""

    items: list[Item]
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
