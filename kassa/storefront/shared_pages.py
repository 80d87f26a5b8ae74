"""Pages rendered once per language and shared by every visitor (the catalog's, for now).

A shared copy is rendered without a request, so nothing of one visitor's can end up in it. What
belongs to a visitor is a marker in the copy, replaced for each response: the CSRF token of the
page's forms, the page's own address (the language switch returns to it) and the header's cart link
(kassa.storefront.context_processors.cart_values, read from a signed cookie by
kassa.storefront.personal without the database): visitors without a session cookie share a
copy with those values in already. Markers hold a NUL, which no form accepts and no escaping
adds or removes. A visitor with a message waiting (messages framework) gets the whole page
rendered for them, as does everyone when DEBUG is on (templates being edited).

Copies live in this process's memory (the "pages" cache) under the caller's key and version; the
caller changes the version when what its pages show changes (kassa.catalog.revision).
"""

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.translation import get_language

from kassa.common.identity import identity
from kassa.common.random_strings import random_string
from kassa.storefront.context_processors import cart_values, page_path, site

T = TypeVar("T")


def page(
    request: HttpRequest,
    *,
    key: str,
    version: str,
    template: str,
    context: Callable[[], Mapping[str, object]],
    cache: str = "pages",
) -> HttpResponse:
    """`template` with `context()`, from the shared copy of (`key`, `version`, language), kept
    in the `cache` named (a set of pages whose keys anyone can multiply gets one of its own, so
    it cannot push the others out)."""
    if settings.DEBUG or len(get_messages(request)) > 0:  # len() leaves the messages unshown
        return render(request, template, context())
    # Without a session cookie a visitor has no cart and no account, so the header shows the
    # same for all of them: their copy has it in already.
    first_visit = settings.SESSION_COOKIE_NAME not in request.COOKIES
    pages = caches[cache]
    # What the shop says of itself (kassa.common.identity) is in every copy: a change is a new copy.
    cache_key = (
        f"{version}:{identity().version}:{get_language()}:"
        f"{'first' if first_visit else 'session'}:{key}"
    )
    parts: list[str] | None = pages.get(cache_key)
    header = {} if first_visit and parts is not None else _header_values(request)
    if parts is None:
        shown = header if first_visit else {name: _marker(name) for name in header}
        own = {name: _marker(name) for name in ("csrf_token", "page_path")}
        html = render_to_string(template, {**site(request), **context(), **shown, **own})
        # Kept cut at its markers (the text between them, then each marker's name): a response
        # is one join, not a pass over the whole page per marker.
        parts = _MARKER.split(html)
        pages.set(cache_key, parts)
    values: dict[str, object] = {
        "csrf_token": csrf_token(request),
        **page_path(request),
        **({} if first_visit else header),
    }
    # Each value escaped once: a page's forms repeat the token (a collection's cards: 29
    # markers in all), and escaping at each cost more than the rest of filling them in.
    escaped = {name: escape(value) for name, value in values.items()}
    filled = parts.copy()
    for n in range(1, len(filled), 2):
        filled[n] = escaped[filled[n]]
    return HttpResponse("".join(filled))


def csrf_token(request: HttpRequest) -> str:
    """What Django's `get_token` answers (the visitor's secret, or a new one and its cookie,
    masked afresh for each response), with the mask drawn in one read of the system's
    randomness: Django's draws each of its characters apart, which cost a shared page more CPU
    than the rest of its personal part."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    # As get_token: the cookie is sent with the response (a new one, or the old one renewed).
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    index, chars = _CSRF_INDEX, CSRF_ALLOWED_CHARS
    return mask + "".join(
        chars[(index[s] + index[m]) % len(chars)] for s, m in zip(secret, mask, strict=True)
    )


_CSRF_INDEX = {char: n for n, char in enumerate(CSRF_ALLOWED_CHARS)}


def _header_values(request: HttpRequest) -> dict[str, object]:
    return cart_values(request)


def _marker(name: str) -> str:
    return f"\x00kassa:{name}\x00"


_MARKER = re.compile("\x00kassa:([a-z_]+)\x00")


def kept(*, key: str, version: str, value: Callable[[], T], cache: str = "pages") -> T:
    """`value()`, kept beside the shared pages under the same `version` (what a set of pages
    needs to know of itself, such as how many pages there are)."""
    pages = caches[cache]
    cache_key = f"{version}:value:{key}"
    found: T | None = pages.get(cache_key)
    if found is None:
        found = value()
        pages.set(cache_key, found)
    return found
