from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kassa.catalog import selectors
from kassa.common.http import parse_id


def catalog(request: HttpRequest) -> HttpResponse:
    return render(request, "kassa/catalog.html", {"items": list(selectors.item_list())})


def item_detail(request: HttpRequest, item_id: str) -> HttpResponse:
    item = selectors.item_get(item_id=parse_id(item_id))
    return render(request, "kassa/item.html", {"item": item})
