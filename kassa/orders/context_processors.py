from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import ngettext

from kassa.orders.selectors import cart_summary
from kassa.orders.visitors import visitor_from_request


def cart(request: HttpRequest) -> dict[str, object]:
    """The cart link, item count and its label for every page's header (creates no session).

    Shared pages put these in per visitor (settings.SHARED_PAGES_VISITOR_CONTEXT)."""
    summary = None
    # Without a session cookie there is neither a visitor token nor a logged-in user.
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        visitor = visitor_from_request(request, create=False)
        if visitor.token or visitor.user_id:
            summary = cart_summary(visitor=visitor)
    url, count = summary or (reverse("orders:list"), 0)
    label = ngettext("%(counter)s item", "%(counter)s items", count) % {"counter": count}
    return {"cart_count": count, "cart_url": url, "cart_label": label}
