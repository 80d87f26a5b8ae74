"""What a page's header shows of its visitor (their cart: its link and item count), from a signed
cookie instead of the database.

Reading the cart the usual way costs a page the session, the signed-in user and the cart: two to
four queries on a page whose shared copy costs none (kassa.storefront.shared_pages). So when the
shop reads the cart, it writes what it read into a cookie, signed, bound to the session it was
read for, with the versions of the cart's owners it was read at (kassa.orders.cart_versions).
A later page trusts the cookie while the session is the same, the cookie is younger than
MAX_AGE and the shared cache still holds those versions: one cache read, no database. Anything
that changes the cart gives its owners new versions, so another tab or device reads it afresh.

The cookie is dropped whenever a request changes the session (the visitor token made on a
first add to the cart, a sign-in, a sign-out): what it was read for is no longer the visitor.
"""

import functools
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from kassa.orders import cart_versions
from kassa.orders.selectors import cart_summary
from kassa.storefront.visitors import visitor_from_request

COOKIE = "kassa_header"
_SALT = "kassa.storefront.personal"
# A cookie is read again from the database after this long whatever the versions say: a session
# that expired on the server, or a change whose new version Redis lost while it was down, shows
# for at most this long.
MAX_AGE = 3600
# How long a process keeps a cookie it has checked the signature of (see _signed_value).
_CHECKED_FOR = 60
# Where a request keeps what it read, and the cookie to set with its response.
_HEADER = "_kassa_header"
_TO_SET = "_kassa_header_cookie"


@dataclass(frozen=True)
class Header:
    count: int
    # The cart's page, kept in the cookie: working it out again (Django's reverse) cost a page
    # more CPU than checking the cookie. Blank: the visitor has no cart (the orders page).
    url: str = ""


NOBODY = Header(count=0)


def header(request: HttpRequest) -> Header:
    """The visitor's cart as the header shows it (creates no session)."""
    known: Header | None = getattr(request, _HEADER, None)
    if known is None:
        session = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        # Without a session cookie there is neither a visitor token nor a signed-in user.
        known = (
            (_from_cookie(request, session) or _from_database(request, session))
            if session
            else NOBODY
        )
        setattr(request, _HEADER, known)
    return known


def _bound_to(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()[:24]


def _from_cookie(request: HttpRequest, session: str) -> Header | None:
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return None
    try:
        kept = _signed_value(raw, int(time.time()) // _CHECKED_FOR)
        if kept["s"] != _bound_to(session) or not cart_versions.held(kept["v"]):
            return None
        return Header(count=int(kept["n"]), url=str(kept["u"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


@functools.lru_cache(maxsize=2048)
def _signed_value(raw: str, _window: int) -> Any:
    """The cookie's value, its signature checked. A visitor sends the same cookie page after
    page, and checking it cost a page more CPU than anything else of its personal part but the
    cache read, so each process keeps what it checked for the rest of a _CHECKED_FOR window (the
    window is in the key). It believes a cookie _CHECKED_FOR less than MAX_AGE, so keeping it
    never makes it older than MAX_AGE. A bad one raises, and raising is never kept."""
    return signing.loads(raw, salt=_SALT, max_age=MAX_AGE - _CHECKED_FOR)


def _from_database(request: HttpRequest, session: str) -> Header:
    visitor = visitor_from_request(request, create=False)
    keys = cart_versions.owner_keys(token=visitor.token, user_id=visitor.user_id)
    # The versions before the cart: a change committing in between makes the cookie older
    # than the cart it holds, never newer.
    versions = cart_versions.current(keys)
    summary = cart_summary(visitor=visitor) if keys else None
    found = (
        Header(count=summary[1], url=reverse("orders:detail", args=[summary[0]]))
        if summary
        else NOBODY
    )
    if all(versions.values()):  # a version Redis could not make is never trusted
        value = {"s": _bound_to(session), "v": versions, "n": found.count, "u": found.url}
        setattr(request, _TO_SET, signing.dumps(value, salt=_SALT))
    return found


class PersonalHeaderMiddleware:
    """Writes the cookie a request read the cart for, or drops it when the request changed the
    session (it would describe another visitor)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            if COOKIE in request.COOKIES:
                response.delete_cookie(COOKIE, samesite="Lax")
        elif hasattr(request, _TO_SET):
            response.set_cookie(
                COOKIE,
                getattr(request, _TO_SET),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
