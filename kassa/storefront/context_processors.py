"""What every page's header shows of the visitor: where they are, and their cart."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import ngettext

from kassa.common.identity import identity
from kassa.orders.selectors import cart_summary
from kassa.storefront.visitors import visitor_from_request


def page_path(request: HttpRequest) -> dict[str, object]:
    """This page's address with its query, for the header's language switch to return to."""
    return {"page_path": request.get_full_path()}


def cart(request: HttpRequest) -> dict[str, object]:
    """The cart link, item count and its label for every page's header (creates no session).

    Shared pages put these in per visitor (kassa.storefront.shared_pages)."""
    summary = None
    # Without a session cookie there is neither a visitor token nor a logged-in user.
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        visitor = visitor_from_request(request, create=False)
        if visitor.token or visitor.user_id:
            summary = cart_summary(visitor=visitor)
    if summary is None:
        url, count = reverse("orders:list"), 0
    else:
        url, count = reverse("orders:detail", args=[summary[0]]), summary[1]
    label = ngettext("%(counter)s item", "%(counter)s items", count) % {"counter": count}
    return {"cart_count": count, "cart_url": url, "cart_label": label}


def site(request: HttpRequest | None = None) -> dict[str, Any]:
    """What every page shows of the shop itself, the same for every visitor: its identity
    (name, logo, contact, footer, languages offered) and whether payments are the demo's."""
    shop = identity()
    return {
        "shop": shop,
        "shop_languages": shop.language_choices(),
        "demo_payments": settings.SHOP_DEMO_PAYMENTS,
    }
