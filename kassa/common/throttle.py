"""How often one visitor, and one client address, may do what costs the shop or guesses a secret:
start a payment (an order, a session row and a Stripe object each time) or try a discount code.

Counts live in the default cache, which is Redis when REDIS_URL is set, so every process and
replica counts together (django-ratelimit's fixed windows). SHOP_THROTTLE=false turns every
limit off, for load tests and `make bench`. A view is limited by putting `@throttled(...)`
inside its `@json_endpoint` / `@page_or_json`, which answer the refusal: a 429 with
Retry-After, or the message on the page.
"""

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]

from kassa.common.errors import TooMany

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# A page's view or an API operation (which returns what its schema says, not a response).
View = TypeVar("View", bound=Callable[..., Any])


def client_address(request: HttpRequest) -> str:
    """The address the request came from: the connection's, unless that is one of
    SHOP_TRUSTED_PROXIES, which speaks for the client in the last X-Forwarded-For entry (its
    own addition); if that entry is a trusted proxy too, the one before it, and so on. Entries
    before the first address no trusted proxy wrote are the client's to make up, never read."""
    address = str(request.META.get("REMOTE_ADDR", ""))
    trusted = settings.SHOP_TRUSTED_PROXIES
    if not trusted:
        return address
    forwarded = [entry.strip() for entry in request.headers.get("X-Forwarded-For", "").split(",")]
    while _is_trusted(address, trusted) and forwarded and forwarded[-1]:
        named = forwarded.pop()
        try:
            address = str(ipaddress.ip_address(named))
        except ValueError:
            break  # not an address: the proxy's own stands for the client
    return address


def _is_trusted(address: str, trusted: list[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _visitor(group: str, request: HttpRequest) -> str:
    return str(request.session.session_key)


def _address(group: str, request: HttpRequest) -> str:
    return client_address(request)


def throttled(
    group: str, *, per_visitor: str = "", per_address: str = ""
) -> Callable[[View], View]:
    """Refuse the view's request past the rates named by these settings (e.g. "10/m")."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if settings.SHOP_THROTTLE:
                limits = []
                # A visitor without a session yet is known only by their address, which the
                # address's looser rate counts: many first-time buyers share one behind a NAT.
                if per_visitor and request.session.session_key:
                    limits.append((_visitor, getattr(settings, per_visitor)))
                if per_address:
                    limits.append((_address, getattr(settings, per_address)))
                for key, rate in limits:
                    _count(request, group=f"{group}:{key.__name__}", key=key, rate=rate)
            return view(request, *args, **kwargs)

        return cast(View, wrapper)

    return decorate


# Starting a payment (Buy, an order's Checkout, a PaymentIntent): per visitor and per address.
buy_limited = throttled(
    "buy", per_visitor="SHOP_THROTTLE_BUY_PER_VISITOR", per_address="SHOP_THROTTLE_BUY_PER_ADDRESS"
)
# Trying a discount code: per visitor, and per address (a guesser can start new sessions).
code_limited = throttled(
    "discount-code",
    per_visitor="SHOP_THROTTLE_CODES_PER_VISITOR",
    per_address="SHOP_THROTTLE_CODES_PER_ADDRESS",
)


def _count(request: HttpRequest, *, group: str, key: Callable[..., str], rate: str) -> None:
    usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    if usage is not None and usage["should_limit"]:
        raise TooMany(
            _("Too many attempts in a short time. Please wait a minute and try again."),
            retry_after=max(1, int(usage["time_left"])),
        )


def search_limited(request: HttpRequest) -> None:
    """Refuse a search past SHOP_THROTTLE_SEARCH_PER_ADDRESS (TooMany): one made-up query can
    make PostgreSQL look through many items, and the words are endless."""
    if settings.SHOP_THROTTLE:
        _count(
            request,
            group="search:_address",
            key=_address,
            rate=settings.SHOP_THROTTLE_SEARCH_PER_ADDRESS,
        )


def sign_in_limited(request: HttpRequest, *, email: str = "") -> None:
    """Refuse a sign-in step past its rates (TooMany): asking for a code for `email`, counted per
    address and per e-mail (SHOP_THROTTLE_SIGN_IN_PER_EMAIL: nobody's inbox is flooded), or,
    without `email`, typing a code, counted per address."""
    if not settings.SHOP_THROTTLE:
        return
    step = "request" if email else "verify"
    _count(
        request,
        group=f"sign-in-{step}:_address",
        key=_address,
        rate=settings.SHOP_THROTTLE_SIGN_IN_PER_ADDRESS,
    )
    if email:
        _count(
            request,
            group="sign-in-request:email",
            key=lambda group, request: email.strip().lower(),
            rate=settings.SHOP_THROTTLE_SIGN_IN_PER_EMAIL,
        )
