from django.db.models import Sum
from django.http import HttpRequest
from django.urls import reverse

from kassa.orders.selectors import cart_get
from kassa.orders.visitors import visitor_from_request


def cart(request: HttpRequest) -> dict[str, object]:
    """The cart link and item count for every page's header (creates no session)."""
    visitor = visitor_from_request(request, create=False)
    order = cart_get(visitor=visitor) if visitor.token or visitor.user_id else None
    if order is None:
        return {"cart_count": 0, "cart_url": reverse("orders:list")}
    count = order.lines.aggregate(count=Sum("quantity"))["count"] or 0
    return {"cart_count": count, "cart_url": order.get_absolute_url()}
