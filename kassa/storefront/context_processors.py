"""What every page's header shows of the visitor: where they are, and their cart."""

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import get_language, ngettext

from kassa.common.identity import identity
from kassa.storefront import personal


def page_path(request: HttpRequest) -> dict[str, object]:
    """This page's address with its query, for the header's language switch to return to."""
    return {"page_path": request.get_full_path()}


def cart_values(request: HttpRequest) -> dict[str, object]:
    """The cart link, item count and its label for every page's header (creates no session).

    Shared pages put these in per visitor (kassa.storefront.shared_pages); kassa.storefront.personal
    reads them."""
    shown = personal.header(request)  # a signed cookie, or the database (creates no session)
    count = shown.count
    url = shown.url or reverse("orders:list")
    return {"cart_count": count, "cart_url": url, "cart_label": _label(get_language(), count)}


@functools.lru_cache(maxsize=512)
def _label(language: str, count: int) -> str:
    # Worked out once per language and count: a lookup in the translations cost every page as
    # much as the rest of filling in its header values.
    return ngettext("%(counter)s item", "%(counter)s items", count) % {"counter": count}


def cart(request: HttpRequest) -> dict[str, object]:
    """cart_values for templates, looked up only when a template shows them: the admin's pages
    and the mails never do, so they cost no cache or database read for the cart."""
    values = functools.cache(lambda: cart_values(request))
    # A template calls a callable it is given: each name asks once, for all three.
    return {name: functools.partial(_value, values, name) for name in _NAMES}


_NAMES = ("cart_count", "cart_url", "cart_label")


def _value(values: Callable[[], dict[str, object]], name: str) -> object:
    return values()[name]


def site(request: HttpRequest | None = None) -> dict[str, Any]:
    """What every page shows of the shop itself, the same for every visitor: its identity
    (name, logo, contact, footer, languages offered) and whether payments are the demo's."""
    shop = identity()
    return {
        "shop": shop,
        "shop_languages": shop.language_choices(),
        "demo_payments": settings.SHOP_DEMO_PAYMENTS,
    }
