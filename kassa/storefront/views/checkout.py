"""Stripe Checkout from the shop's pages: Buy now (the spec's GET /buy/<id>), an order's
Checkout, leaving a checkout to edit the order, and the pages Stripe sends the customer back to."""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from kassa.api.schemas import checkout_session_out
from kassa.catalog import selectors as catalog_selectors
from kassa.common.forms import cleaned
from kassa.common.http import json_endpoint, page_or_json
from kassa.common.throttle import buy_limited
from kassa.giftcards.issuing import codes_to_show
from kassa.orders import selectors as order_selectors
from kassa.payments.back_from_stripe import confirm_return
from kassa.payments.flow import checkout_buy, checkout_cancel, checkout_start
from kassa.storefront.forms import BuyNowForm, CancelReturnForm
from kassa.storefront.json import shape
from kassa.storefront.return_pages import return_pages
from kassa.storefront.visitors import order_for_request, visitor_from_request
from kassa.stripe_api.errors import PaymentError

logger = logging.getLogger(__name__)

NO_SUCH_ITEM = gettext_lazy("There is no such item.")
NO_SUCH_ORDER = gettext_lazy("There is no such order.")


@never_cache
@json_endpoint("GET", not_found=NO_SUCH_ITEM)
@buy_limited
def buy_item_view(request: HttpRequest, item_id: int) -> JsonResponse:
    """GET /buy/<id>: start Stripe Checkout for the item (`?quantity=N`, default 1); answers
    the session id as JSON."""
    item = catalog_selectors.item_to_buy(item_id=item_id)
    quantity: int = cleaned(BuyNowForm(request.GET))["quantity"]
    started = checkout_buy(
        item=item,
        visitor=visitor_from_request(request),
        pages=return_pages(request),
        quantity=quantity,
    )
    return shape(checkout_session_out(started))


@never_cache
@json_endpoint("GET", "POST", not_found=NO_SUCH_ORDER)
@buy_limited
def buy_order_view(request: HttpRequest, order_id: int) -> JsonResponse:
    """GET /orders/<id>/buy/: one Checkout Session for the whole order. POSTed, with the
    buyer's `email`, when the order's gift cards pay all of it and the cart asked for it (an
    address is no part of a URL)."""
    order = order_for_request(request, order_id)
    email = request.POST.get("email", "") if request.method == "POST" else ""
    started = checkout_start(order=order, pages=return_pages(request), email=email)
    return shape(checkout_session_out(started))


def _order_page(order_id: int) -> str:
    return reverse("orders:detail", args=[order_id])


@never_cache
@page_or_json("POST", not_found=NO_SUCH_ORDER, back=_order_page)
def reopen_order_view(request: HttpRequest, order_id: int) -> HttpResponse:
    """Leave a started checkout to edit the order again (the session can no longer be paid)."""
    order = order_for_request(request, order_id)
    checkout_cancel(order=order, source="customer edits the order")
    return redirect(order.get_absolute_url())


@never_cache
def success(request: HttpRequest) -> HttpResponse:
    """Where Stripe returns a customer who paid. The URL proves nothing: ask Stripe, then show."""
    returned = confirm_return(query=request.GET)
    order = returned.order
    visitor = visitor_from_request(request, create=False)
    if order is None and request.GET.get("order", "").isdigit():
        # Paid by gift cards alone: no Stripe object to ask, the order is looked up as the
        # visitor's own (below), and shown only if it is paid.
        order = (
            order_selectors.order_list(visitor=visitor)
            .filter(pk=int(request.GET["order"][:18]))
            .first()
        )
    if (
        order is not None
        and not order_selectors.order_list(visitor=visitor).filter(pk=order.pk).exists()
    ):
        order = None  # paid or not, a stranger's order is not shown
    # The codes of gift cards the order bought, shown in full this once, to its buyer.
    bought = codes_to_show(order=order) if order is not None and order.is_paid else []
    return render(
        request,
        "kassa/success.html",
        {"order": order, "failed": order and returned.failed, "gift_card_codes": bought},
    )


@never_cache
def cancel(request: HttpRequest) -> HttpResponse:
    """Stripe's cancel_url: close that attempt and give the customer their cart back."""
    order = None
    query = CancelReturnForm(request.GET)
    if query.is_valid():
        visitor = visitor_from_request(request, create=False)
        order = (
            order_selectors.order_list(visitor=visitor)
            .filter(pk=query.cleaned_data["order"])
            .first()
        )
    if order is not None:
        try:
            checkout_cancel(
                order=order, source="customer cancelled", attempt=query.cleaned_data["attempt"]
            )
        except PaymentError as exc:
            logger.warning("cancel of order %s: %s", order.pk, exc.message)
    return render(request, "kassa/cancel.html", {"order": order})
