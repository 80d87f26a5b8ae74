from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy

from kassa.catalog import revision, selectors
from kassa.catalog.models import Item
from kassa.common import shared_pages
from kassa.common.http import page_or_json, wants_json
from kassa.common.money import format_amount, quantize


def catalog(request: HttpRequest) -> HttpResponse:
    return shared_pages.page(
        request,
        key="catalog",
        version=revision.recent(),
        template="kassa/catalog.html",
        context=lambda: {"items": list(selectors.item_list())},
    )


@page_or_json(not_found=gettext_lazy("There is no such item."))
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    if wants_json(request):
        # Read fresh, never from the shared copies: those are HTML.
        return JsonResponse(item_json(selectors.item_get(item_id=item_id)))
    return shared_pages.page(
        request,
        key=f"item:{item_id}",
        version=revision.recent(),
        template="kassa/item.html",
        context=lambda: {"item": selectors.item_get(item_id=item_id)},
    )


def item_json(item: Item) -> dict[str, Any]:
    """An item as a JSON client sees it, with the addresses that buy it."""
    return {
        "id": item.pk,
        "name": item.name,
        "description": item.description,
        "price": str(quantize(item.price, item.currency)),
        "currency": item.currency,
        "price_formatted": format_amount(item.price, item.currency),
        "url": item.get_absolute_url(),
        "buy_url": reverse("payments:buy", args=[item.pk]),
        "add_to_order_url": reverse("orders:add", args=[item.pk]),
        "payable": can_pay_in(item.currency),
    }


def can_pay_in(currency: str) -> bool:
    """Whether payments in `currency` are set up. Payments knows (the catalog does not import
    it): settings.PAYMENT_ACCOUNT_FOR_CURRENCY names its function, truthy for such a currency."""
    account_for = import_string(settings.PAYMENT_ACCOUNT_FOR_CURRENCY)
    return bool(account_for(currency))
