from django.http import HttpRequest, HttpResponse

from kassa.catalog import revision, selectors
from kassa.common import shared_pages


def catalog(request: HttpRequest) -> HttpResponse:
    return shared_pages.page(
        request,
        key="catalog",
        version=revision.recent(),
        template="kassa/catalog.html",
        context=lambda: {"items": list(selectors.item_list())},
    )


def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    return shared_pages.page(
        request,
        key=f"item:{item_id}",
        version=revision.recent(),
        template="kassa/item.html",
        context=lambda: {"item": selectors.item_get(item_id=item_id)},
    )
