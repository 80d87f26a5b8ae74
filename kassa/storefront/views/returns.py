"""Asking to return items of a paid order: from the order's page when signed in (or in the
browser that bought it), or from the signed link in the order's mail on any device."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from kassa.common.http import page_or_json
from kassa.customers.returns import return_deadline, return_request_create, returnable
from kassa.orders import selectors
from kassa.orders.links import order_from_token, order_token
from kassa.orders.models import Order
from kassa.orders.pricing import order_totals
from kassa.storefront.accounts import current_customer
from kassa.storefront.forms import ReturnRequestForm
from kassa.storefront.visitors import order_for_request

NO_SUCH_ORDER = gettext_lazy("There is no such order.")


def _form_page(order_id: int) -> str:
    return reverse("orders:return", args=[order_id])


def _signed_form_page(token: str) -> str:
    return reverse("orders:signed-return", args=[token])


def _signed_order(token: str) -> Order:
    order_id = order_from_token(token)
    if order_id is None:
        raise Http404("No such order.")
    return selectors.order_by_link(order_id=order_id)


def _answer(request: HttpRequest, order: Order, *, done: str, action: str) -> HttpResponse:
    left = returnable(order)
    if request.method == "POST":
        form = ReturnRequestForm(request.POST, left=left)
        quantities = form.quantities()
        return_request_create(
            order_id=order.pk,
            quantities=quantities,
            reason=form.cleaned_data["reason"],
            customer=current_customer(request),
        )
        messages.success(
            request,
            _("Your return request was sent. We will write to you when we have looked at it."),
        )
        return redirect(done)
    totals = order_totals(order)
    rows = [(line, left.get(line.line.pk, 0)) for line in totals.lines]
    return render(
        request,
        "kassa/order_return.html",
        {
            "order": order,
            "rows": rows,
            "deadline": return_deadline(order),
            "action": action,
            "back": done,
            "form": ReturnRequestForm(left=left),
        },
    )


@never_cache
@page_or_json("GET", "POST", not_found=NO_SUCH_ORDER, back=_form_page)
def order_return(request: HttpRequest, order_id: int) -> HttpResponse:
    """/orders/<id>/return/: the form to ask for a return, and its post."""
    order = order_for_request(request, order_id)
    if not order.is_paid:
        raise Http404("No such order.")
    return _answer(request, order, done=order.get_absolute_url(), action=_form_page(order_id))


@never_cache
@page_or_json("GET", "POST", not_found=NO_SUCH_ORDER, back=_signed_form_page)
def order_signed_return(request: HttpRequest, token: str) -> HttpResponse:
    """/orders/view/<token>/return/: the same from the order's signed link, without an account."""
    order = _signed_order(token)
    return _answer(
        request,
        order,
        done=reverse("orders:signed", args=[order_token(order)]),
        action=_signed_form_page(token),
    )
