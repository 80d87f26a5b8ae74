"""The links in an unpaid checkout's reminder: back to the cart, and no more reminders."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kassa.notifications.services import recovery_opt_out
from kassa.orders.links import order_from_recovery_token, order_token
from kassa.orders.models import Order
from kassa.storefront.visitors import SESSION_KEY


def _order(token: str) -> Order:
    order_id = order_from_recovery_token(token)
    order = Order.objects.filter(pk=order_id).first() if order_id is not None else None
    if order is None or not order.recovery_email:
        raise Http404("No such cart.")
    return order


@never_cache
@require_http_methods(["GET", "HEAD"])
def recover(request: HttpRequest, token: str) -> HttpResponse:
    """The reminder's link: this browser becomes the cart's owner (the link went only to the
    address that left it) and sees it at today's prices and stock."""
    order = _order(token)
    if order.is_paid:
        return redirect("orders:signed", order_token(order))
    if order.status != Order.Status.OPEN or not order.visitor_token:
        messages.info(request, _("This cart can no longer be restored from here."))
        return redirect("catalog:catalog")
    request.session[SESSION_KEY] = order.visitor_token
    return redirect(reverse("orders:detail", args=[order.pk]))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """No more reminders to the address: asked on a page (a mail scanner following the link
    changes nothing), done by its button."""
    order = _order(token)
    done = request.method == "POST"
    if done:
        recovery_opt_out(email=order.recovery_email)
    return render(request, "kassa/recovery_unsubscribe.html", {"done": done})
