"""Admin lists of tables that grow without end (orders): pages without counting every row.

Django's admin counts the rows a list matches (for its page links) and, with
`show_full_result_count`, every row of the table as well; at a million orders each count reads
the whole table and takes longer than the page itself. Here a list counts only as far as a few
pages past the page asked for, and says "more than N" when there are more.
"""

from functools import cached_property
from typing import Any

from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

# How many pages past the one shown a list counts (and links to).
PAGES_AHEAD = 10


class LookaheadPaginator(Paginator):
    """Counts up to PAGES_AHEAD pages past `page`; `more` says whether rows go on past that."""

    def __init__(self, object_list: Any, per_page: int, *, page: int = 1, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.page_asked = max(page, 1)
        self.more = False

    @cached_property
    def count(self) -> int:
        limit = (self.page_asked + PAGES_AHEAD) * int(self.per_page)
        rows = self.object_list
        if isinstance(rows, QuerySet):
            # Only the keys, in no order: the database stops at the limit however it reads.
            found = rows.order_by().values("pk")[: limit + 1].count()
        else:
            found = len(rows)
        self.more = found > limit
        return min(found, limit)


class LookaheadPagingMixin:
    """For a ModelAdmin: pages counted as far as a few pages ahead, and no count of the whole
    table beside the filtered one (the pagination template says "more than N")."""

    show_full_result_count = False

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> LookaheadPaginator:
        try:
            page = int(request.GET.get(PAGE_VAR, 1))
        except ValueError:
            page = 1
        return LookaheadPaginator(
            queryset,
            per_page,
            page=page,
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )
