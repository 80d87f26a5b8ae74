"""The cart and the visitor's orders: adding an item, changing a line, a discount code, the
order pages and the signed link from the confirmation mail."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from kassa.api.schemas import OrderList, order_out
from kassa.catalog import selectors as catalog_selectors
from kassa.common.forms import cleaned
from kassa.common.http import page_or_json, wants_json
from kassa.common.throttle import code_limited
from kassa.customers.returns import can_return, return_deadline
from kassa.giftcards import paying as gift_cards
from kassa.giftcards.recipients import set_recipient
from kassa.orders import selectors
from kassa.orders.cart import (
    cart_add_item,
    order_apply_discount_code,
    order_remove_discount,
    order_set_quantity,
)
from kassa.orders.links import order_from_token
from kassa.orders.models import Order
from kassa.orders.pricing import order_totals
from kassa.orders.review import cart_review
from kassa.payments.buyer import asks_for_email
from kassa.storefront.forms import (
    AddToCartForm,
    DiscountCodeForm,
    GiftCardRecipientForm,
    LineQuantityForm,
    RemoveDiscountForm,
    RemoveGiftCardForm,
    RemoveLineForm,
)
from kassa.storefront.json import shape
from kassa.storefront.visitors import order_for_request, visitor_from_request

NO_SUCH_ITEM = gettext_lazy("There is no such item.")
NO_SUCH_ORDER = gettext_lazy("There is no such order.")


def _item_page(item_id: int) -> str:
    return reverse("catalog:item", args=[item_id])


def _order_page(order_id: int, **_line: int) -> str:
    return reverse("orders:detail", args=[order_id])


def _as_json(request: HttpRequest, order: Order, *, status: int = 200) -> JsonResponse:
    """The order as it is now in the database, lines and all, as its owner sees it."""
    visitor = visitor_from_request(request, create=False)
    return shape(order_out(selectors.order_get(visitor=visitor, order_id=order.pk)), status=status)


def _changed(request: HttpRequest, order: Order) -> HttpResponse:
    """After a change: the order as JSON, or back to its page."""
    if wants_json(request):
        return _as_json(request, order)
    return redirect(order.get_absolute_url())


@never_cache
@page_or_json("POST", not_found=NO_SUCH_ITEM, back=_item_page)
def add_to_order(request: HttpRequest, item_id: int) -> HttpResponse:
    """POST /item/<id>/add-to-order/: put the item in the visitor's cart (made on first add)."""
    item = catalog_selectors.item_get(item_id=item_id)
    quantity: int = cleaned(AddToCartForm(request.POST))["quantity"]
    recipient = cleaned(GiftCardRecipientForm(request.POST)) if item.is_gift_card else None
    cart, created = cart_add_item(
        visitor=visitor_from_request(request), item=item, quantity=quantity
    )
    if recipient is not None:
        set_recipient(order=cart, item_id=item.pk, **recipient)
    if wants_json(request):
        return _as_json(request, cart, status=201 if created else 200)
    messages.success(request, _("%(item)s is in your cart.") % {"item": item.name})
    return redirect(cart.get_absolute_url())


@never_cache
@page_or_json("GET")
def order_list(request: HttpRequest) -> HttpResponse:
    visitor = visitor_from_request(request, create=False)
    orders = [(order, order_totals(order)) for order in selectors.order_list(visitor=visitor)]
    if wants_json(request):
        return shape(OrderList(orders=[order_out(order, totals) for order, totals in orders]))
    return render(request, "kassa/order_list.html", {"orders": orders})


@never_cache
@page_or_json("GET", not_found=NO_SUCH_ORDER)
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = order_for_request(request, order_id)
    totals = order_totals(order)
    if wants_json(request):
        return shape(order_out(order, totals))
    by_cards = gift_cards.applied(order)
    amount_due = totals.total - sum(part.amount for part in by_cards)
    payable = order.status in (Order.Status.OPEN, Order.Status.PENDING)
    return render(
        request,
        "kassa/order_detail.html",
        {
            "order": order,
            "totals": totals,
            "gift_cards": by_cards,
            "amount_due": amount_due,
            # Paid without Stripe, whose pages would ask it: the cart asks beside Pay.
            "ask_email": payable
            and asks_for_email(order, cards_pay_all=bool(by_cards) and amount_due <= 0),
            "review": cart_review(order, totals),
            **_returns(order, reverse("orders:return", args=[order.pk])),
        },
    )


def _returns(order: Order, form_url: str) -> dict[str, object]:
    """What a paid order's page says of returns: those asked for, and where to ask."""
    if not order.is_paid:
        return {}
    return {
        "return_requests": list(order.return_requests.prefetch_related("lines__order_line__item")),
        "return_url": form_url if can_return(order) else "",
        "return_deadline": return_deadline(order),
    }


@never_cache
@page_or_json("POST", not_found=NO_SUCH_ORDER, back=_order_page)
def order_line_update(request: HttpRequest, order_id: int, line_id: int) -> HttpResponse:
    """Change a line's quantity; 0, or the line's Remove button, takes the line out."""
    order = order_for_request(request, order_id)
    if RemoveLineForm(request.POST).is_valid():
        quantity = 0
    else:
        quantity = cleaned(LineQuantityForm(request.POST))["quantity"]
    order_set_quantity(order=order, line_id=line_id, quantity=quantity)
    return _changed(request, order)


@never_cache
# A gift card's code is money: Django's error reports leave it out.
@sensitive_post_parameters("code")
@page_or_json("POST", not_found=NO_SUCH_ORDER, back=_order_page)
@code_limited
def order_discount(request: HttpRequest, order_id: int) -> HttpResponse:
    """Apply a code typed in the cart's one code box (a gift card's, else a discount's), or
    (their Remove buttons) remove a gift card or the discount."""
    order = order_for_request(request, order_id)
    # Gift cards first: a code of a gift card's shape is only ever a gift card's.
    remove_card = RemoveGiftCardForm(request.POST)
    if remove_card.is_valid():
        gift_cards.remove(order=order, card_id=remove_card.cleaned_data["remove_gift_card"])
        return _changed(request, order)
    card = gift_cards.apply_code(order=order, typed=request.POST.get("code", "")[:100])
    if card is not None:
        if not wants_json(request):
            messages.success(request, _("Gift card ••••%(last4)s applied.") % {"last4": card.last4})
        return _changed(request, order)
    if RemoveDiscountForm(request.POST).is_valid():
        order_remove_discount(order=order)
        return _changed(request, order)
    code: str = cleaned(DiscountCodeForm(request.POST))["code"]
    discount = order_apply_discount_code(order=order, code=code)
    if not wants_json(request):
        messages.success(request, _("Discount “%(name)s” applied.") % {"name": discount.name})
    return _changed(request, order)


@never_cache
@require_GET
def order_signed(request: HttpRequest, token: str) -> HttpResponse:
    """/orders/view/<token>/: the order a signed link names, without the buyer's session; a
    tampered or foreign token is a plain 404."""
    order_id = order_from_token(token)
    if order_id is None:
        raise Http404("No such order.")
    order = selectors.order_by_link(order_id=order_id)
    return render(
        request,
        "kassa/order_signed.html",
        {
            "order": order,
            "totals": order_totals(order),
            "token": token,
            **_returns(order, reverse("orders:signed-return", args=[token])),
        },
    )
