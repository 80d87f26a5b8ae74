"""Who is asking: the visitor a request's session and user make, and what that visitor may see."""

import secrets

from django.http import HttpRequest

from kassa.common.throttle import client_address
from kassa.orders import selectors
from kassa.orders.models import Order
from kassa.orders.visitors import Visitor

SESSION_KEY = "kassa_visitor"


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
    )


def order_for_request(request: HttpRequest, order_id: int) -> Order:
    """The order a path names, if it is the asking visitor's; a 404 otherwise."""
    visitor = visitor_from_request(request, create=False)
    return selectors.order_get(visitor=visitor, order_id=order_id)
