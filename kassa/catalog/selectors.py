import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from kassa.catalog.models import Item, search_document


def item_list() -> QuerySet[Item]:
    """The catalog: items on sale."""
    return Item.objects.filter(is_active=True)


def item_get(*, item_id: int) -> Item:
    return get_object_or_404(Item, pk=item_id)


def item_search(*, query: str) -> QuerySet[Item]:
    """Items whose name or description match `query`, in the catalog's order.

    On PostgreSQL, full-text search: the words stemmed as Russian and as English ("кружки" finds
    "Кружка", "mugs" finds "Mug"), every word of the query required, through the GIN index on
    `search_document()`. Elsewhere (SQLite, for development), each word must appear in the name
    or the description, case-insensitively: a regular expression, because SQLite's LIKE folds
    the case of ASCII letters only."""
    if not query.strip():
        return Item.objects.none()
    on_sale = Item.objects.filter(is_active=True)
    if connection.vendor == "postgresql":
        # websearch syntax: plain words, "quoted phrases" and -exclusions, never a syntax error.
        words = SearchQuery(query, config="russian", search_type="websearch") | SearchQuery(
            query, config="english", search_type="websearch"
        )
        # Ordered by the name's lower case, which no index holds: so PostgreSQL finds the
        # matches through the GIN index and sorts those few, rather than walking the catalog
        # in name order and computing every item's words until a page is full (seconds for a
        # rare word in a large catalog).
        return (
            on_sale.alias(document=search_document())
            .filter(document=words)
            .order_by(Lower("name"), "id")
        )
    matches = Q()
    for word in query.split():
        pattern = re.escape(word)
        matches &= Q(name__iregex=pattern) | Q(description__iregex=pattern)
    return on_sale.filter(matches).order_by(Lower("name"), "id")


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
        items=list(items[start : start + size]) if count else [],
        number=number,
        num_pages=pages.num_pages,
        count=count,
        links=[
            None if link == Paginator.ELLIPSIS else int(link)
            for link in pages.get_elided_page_range(number, on_each_side=2, on_ends=1)
        ],
    )
