from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from kassa.catalog import selectors as catalog_selectors
from kassa.common.http import json_error, parse_id
from kassa.orders.visitors import visitor_from_request
from kassa.payments.checkout import ReturnUrls, buy_item
from kassa.payments.errors import PaymentError


def _return_urls(request: HttpRequest) -> ReturnUrls:
    success = request.build_absolute_uri(reverse("payments:success"))
    return ReturnUrls(
        # Stripe fills in {CHECKOUT_SESSION_ID}; it must reach Stripe unescaped.
        success=f"{success}?session_id={{CHECKOUT_SESSION_ID}}",
        cancel=request.build_absolute_uri(reverse("payments:cancel")),
    )


@require_GET
def buy_item_view(request: HttpRequest, item_id: str) -> JsonResponse:
    """GET /buy/<id>: start Stripe Checkout for one item; answers the session id as JSON."""
    try:
        item = catalog_selectors.item_get(item_id=parse_id(item_id))
    except Http404:
        return json_error("There is no such item.", status=404)
    try:
        order, session = buy_item(
            item=item, visitor=visitor_from_request(request), urls=_return_urls(request)
        )
    except PaymentError as exc:
        return json_error(exc.message, status=exc.status_code)
    return JsonResponse({"id": session.id, "url": session.url, "order_id": order.pk})


def success(request: HttpRequest) -> HttpResponse:
    return render(request, "kassa/success.html")


def cancel(request: HttpRequest) -> HttpResponse:
    return render(request, "kassa/cancel.html")
