"""Who is asking: the visitor a request's session and user make, and what that visitor may see."""

import secrets

from django.http import HttpRequest

from kassa.common.throttle import client_address
from kassa.customers.models import Customer
from kassa.orders import selectors
from kassa.orders.models import Order
from kassa.orders.visitors import Visitor

SESSION_KEY = "kassa_visitor"
_EMAIL = "_kassa_customer_email"


def visitor_from_request(request: HttpRequest, *, create: bool = True) -> Visitor:
    """The visitor; with create=False a first-time visitor gets no session (reading pages)."""
    token = request.session.get(SESSION_KEY, "")
    is_new = False
    if not token and create:
        token = secrets.token_hex(16)
        request.session[SESSION_KEY] = token
        is_new = True
    user_id = request.user.pk if request.user.is_authenticated else None
    return Visitor(
        token=token,
        user_id=user_id,
        is_new=is_new and user_id is None,
        address=client_address(request),
        email=customer_email(request),
    )


def customer_email(request: HttpRequest) -> str:
    """The signed-in customer's e-mail ("" for anyone else), read once per request."""
    if not request.user.is_authenticated:
        return ""
    cached = getattr(request, _EMAIL, None)
    if cached is None:
        cached = (
            Customer.objects.filter(user_id=request.user.pk).values_list("email", flat=True).first()
            or ""
        )
        setattr(request, _EMAIL, cached)
    return str(cached)


def order_for_request(request: HttpRequest, order_id: int) -> Order:
    """The order a path names, if it is the asking visitor's; a 404 otherwise."""
    visitor = visitor_from_request(request, create=False)
    return selectors.order_get(visitor=visitor, order_id=order_id)
