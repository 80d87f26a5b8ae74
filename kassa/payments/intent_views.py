"""The PaymentIntent flow over HTTP: the pay pages and the JSON endpoints they call."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kassa.catalog import selectors as catalog_selectors
from kassa.common.http import json_endpoint
from kassa.common.throttle import buy_limited
from kassa.orders import selectors as order_selectors
from kassa.orders.models import Order
from kassa.orders.pricing import order_totals
from kassa.orders.visitors import visitor_from_request
from kassa.payments.flow import Started, payment_intent_buy, payment_intent_start
from kassa.payments.presenters import payment_intent_json
from kassa.payments.views import return_pages


def _intent_json(request: HttpRequest, started: Started) -> JsonResponse:
    order = started.order
    body: dict[str, Any] = {
        **payment_intent_json(started, return_url=return_pages(request).success),
        # The order's own page and endpoint: reloading pays the same intent, makes no new one.
        "pay_url": reverse("payments:order-pay", args=[order.pk]),
        "intent_url": reverse("payments:order-payment-intent", args=[order.pk]),
    }
    return JsonResponse(body)


@never_cache
@json_endpoint("POST", not_found=gettext_lazy("There is no such order."))
@buy_limited
def order_payment_intent(request: HttpRequest, order_id: int) -> JsonResponse:
    """POST /orders/<id>/payment-intent/: the order's one PaymentIntent and its client secret."""
    order = order_selectors.order_for_request(request, order_id)
    started = payment_intent_start(order=order, pages=return_pages(request))
    return _intent_json(request, started)


@never_cache
@json_endpoint("POST", not_found=gettext_lazy("There is no such item."))
@buy_limited
def item_payment_intent(request: HttpRequest, item_id: int) -> JsonResponse:
    """POST /item/<id>/payment-intent/: a one-line order for the item and its PaymentIntent."""
    item = catalog_selectors.item_get(item_id=item_id)
    started = payment_intent_buy(
        item=item, visitor=visitor_from_request(request), pages=return_pages(request)
    )
    return _intent_json(request, started)


@require_GET
def item_pay_page(request: HttpRequest, item_id: int) -> HttpResponse:
    """/item/<id>/pay/: pay for one item by card on this page; the page's script asks for the
    PaymentIntent (and so makes the one-line order) once it has loaded, then moves the address
    to the order's pay page, so a reload finds that order and its intent."""
    item = catalog_selectors.item_get(item_id=item_id)
    return render(
        request,
        "kassa/pay.html",
        {
            "item": item,
            "currency": item.currency,
            "payable": True,
            "intent_url": reverse("payments:item-payment-intent", args=[item.pk]),
        },
    )


@never_cache
@require_GET
def order_pay_page(request: HttpRequest, order_id: int) -> HttpResponse:
    """/orders/<id>/pay/: pay for the visitor's order by card on this page."""
    order = order_selectors.order_for_request(request, order_id)
    totals = order_totals(order)
    free = totals.is_free  # Stripe cannot charge nothing
    payable = order.status in (Order.Status.OPEN, Order.Status.PENDING) and bool(totals.lines)
    return render(
        request,
        "kassa/pay.html",
        {
            "order": order,
            "totals": totals,
            "currency": order.currency,
            "payable": payable and not free,
            "free": free,
            "intent_url": reverse("payments:order-payment-intent", args=[order.pk]),
        },
    )
