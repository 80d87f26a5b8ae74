"""The PaymentIntent flow over HTTP: the pay pages and the JSON endpoints they call."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kassa.api.schemas import payment_intent_out
from kassa.catalog import selectors as catalog_selectors
from kassa.common.http import json_endpoint
from kassa.common.money import format_amount, from_minor
from kassa.common.throttle import buy_limited
from kassa.customers.selectors import last_shipping_address
from kassa.giftcards import paying as gift_cards
from kassa.orders.checkout_defaults import offered
from kassa.orders.models import Order
from kassa.orders.pricing import order_totals
from kassa.orders.shipping import ShippingOption, needs_shipping
from kassa.orders.tax_mode import stripe_computes_tax
from kassa.payments.buyer import known_email
from kassa.payments.flow import Started, payment_intent_buy, payment_intent_start
from kassa.payments.methods import payment_intent_details
from kassa.storefront.forms import details_from
from kassa.storefront.return_pages import return_pages
from kassa.storefront.visitors import order_for_request, visitor_from_request


def _shown(minor: int, currency: str) -> str:
    return format_amount(from_minor(minor, currency), currency)


def _customer_form(order: Order, *, amount: int) -> dict[str, Any]:
    """What the page asks the customer before paying, as the shop decides it: the e-mail (filled
    in if known), the phone if wanted, and an address and shipping choice if goods are sent.
    Each choice comes with its total, worked out here; the browser only shows them."""
    lines = list(order.lines.select_related("item"))
    goods = order_totals(order, lines, shipping=0).total
    options = offered(order=order, lines=lines, goods=goods)
    tax_by_stripe = stripe_computes_tax()
    return {
        "details_url": reverse("payments:order-payment-details", args=[order.pk]),
        "email": known_email(order),
        "collect_phone": settings.SHOP_COLLECT_PHONE,
        "needs_shipping": needs_shipping(lines),
        # Stripe Tax needs an address even when nothing is sent: the billing one.
        "needs_address": needs_shipping(lines) or tax_by_stripe,
        # The totals shown are before tax until the address is known; the page shows the
        # total with the tax, and asks again, before anything is charged.
        "tax_by_stripe": tax_by_stripe,
        "countries": settings.SHOP_SHIPPING_COUNTRIES,
        "shipping_options": [
            {
                "id": option.rate.pk,
                "name": option.rate.name,
                "price": _shown(option.amount, order.currency) if option.amount else _("Free"),
                "estimate": _estimate(option),
                "total": _shown(goods + option.amount, order.currency),
                "amount": goods + option.amount,
                "pay_label": _("Pay %(amount)s")
                % {"amount": _shown(goods + option.amount, order.currency)},
            }
            for option in options
        ],
        # A signed-in customer's last shipping address, for the Address Element to start with.
        "address": _remembered(order) if needs_shipping(lines) else None,
        # The intent is made for the cheapest option until the customer chooses.
        "total": _shown(amount, order.currency),
        "amount": amount,
        "pay_label": _("Pay %(amount)s") % {"amount": _shown(amount, order.currency)},
    }


def _remembered(order: Order) -> dict[str, Any] | None:
    """The address as Stripe's Address Element takes it (`defaultValues`)."""
    address = last_shipping_address(user_id=order.user_id) if order.user_id else None
    if address is None:
        return None
    return {
        "name": address.name,
        "address": {
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "state": address.state,
            "postal_code": address.postal_code,
            "country": address.country,
        },
    }


def _estimate(option: ShippingOption) -> str:
    low, high = option.rate.min_days, option.rate.max_days
    if low and high and low != high:
        return _("%(low)s–%(high)s days") % {"low": low, "high": high}
    days = high or low
    if not days:
        return ""
    return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}


def _intent_json(request: HttpRequest, started: Started) -> JsonResponse:
    order = started.order
    body: dict[str, Any] = {
        **payment_intent_out(started, return_url=return_pages(request).success).model_dump(),
        # The order's own page and endpoint: reloading pays the same intent, makes no new one.
        "pay_url": reverse("payments:order-pay", args=[order.pk]),
        "intent_url": reverse("payments:order-payment-intent", args=[order.pk]),
        "customer": _customer_form(order, amount=started.amount),
    }
    return JsonResponse(body)


@never_cache
@json_endpoint("POST", not_found=gettext_lazy("There is no such order."))
@buy_limited
def order_payment_details(request: HttpRequest, order_id: int) -> JsonResponse:
    """POST /orders/<id>/payment-details/: the customer's e-mail, name, phone, address and
    shipping choice for the order's PaymentIntent, before the page confirms it. Answers the
    amount the intent now asks; a detail that cannot be used is a 400 and changes nothing."""
    order = order_for_request(request, order_id)
    details = details_from(request.POST)
    intent = payment_intent_details.payment_intent_details(order=order, details=details)
    return JsonResponse(
        {
            "order_id": order.pk,
            "amount": intent.amount,
            "currency": order.currency,
            "total": _shown(intent.amount, order.currency),
            # Stripe Tax's, for the address given (null when the shop's rates apply).
            "tax": _shown(intent.tax_amount, order.currency) if intent.tax_calculation else None,
            "tax_notice": (
                _("Tax for your address: %(tax)s. The total is %(total)s.")
                % {
                    "tax": _shown(intent.tax_amount, order.currency),
                    "total": _shown(intent.amount, order.currency),
                }
                if intent.tax_calculation
                else ""
            ),
            "pay_label": _("Pay %(amount)s") % {"amount": _shown(intent.amount, order.currency)},
        }
    )


@never_cache
@json_endpoint("POST", not_found=gettext_lazy("There is no such order."))
@buy_limited
def order_payment_intent(request: HttpRequest, order_id: int) -> JsonResponse:
    """POST /orders/<id>/payment-intent/: the order's one PaymentIntent and its client secret."""
    order = order_for_request(request, order_id)
    started = payment_intent_start(
        order=order, pages=return_pages(request), email=request.POST.get("email", "")
    )
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
    order = order_for_request(request, order_id)
    totals = order_totals(order)
    free = totals.is_free  # Stripe cannot charge nothing
    by_cards = gift_cards.applied(order)  # they pay first: the card is charged the rest
    amount_due = totals.total - sum(part.amount for part in by_cards)
    cards_pay_all = bool(by_cards) and amount_due <= 0
    payable = order.status in (Order.Status.OPEN, Order.Status.PENDING) and bool(totals.lines)
    return render(
        request,
        "kassa/pay.html",
        {
            "order": order,
            "totals": totals,
            "currency": order.currency,
            "payable": payable and not free and not cards_pay_all,
            "free": free,
            "gift_cards": by_cards,
            "amount_due": amount_due,
            "cards_pay_all": cards_pay_all,
            "intent_url": reverse("payments:order-payment-intent", args=[order.pk]),
        },
    )
