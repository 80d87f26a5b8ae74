"""How often one visitor, and one client address, may do what costs the shop or guesses a secret:
start a payment (an order, a session row and a Stripe object each time) or try a discount code.

Counts live in the default cache, which is Redis when REDIS_URL is set, so every process and
replica counts together (django-ratelimit's fixed windows). SHOP_THROTTLE=false turns every
limit off, for load tests and `make bench`. A view is limited by putting `@throttled(...)`
inside its `@json_endpoint` / `@page_or_json`, which answer the refusal: a 429 with
Retry-After, or the message on the page.
"""

import logging
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]
from redis import RedisError

from kassa.common.errors import TooMany

logger = logging.getLogger(__name__)
# After Redis failed to answer, it is not asked again for this long: a Redis that is gone can
# take seconds to fail (its name no longer resolving), which one request a process pays, not
# every Buy click.
REDIS_RETRY_SECONDS = 5.0
_redis_down_until = float("-inf")
# One warning a minute while Redis is gone, not one a request.
WARN_EVERY_SECONDS = 60.0
_warned_at = float("-inf")

# A page's view or an API operation (which returns what its schema says, not a response).
View = TypeVar("View", bound=Callable[..., Any])


def client_address(request: HttpRequest) -> str:
    """The address the request came from. Behind the shop's own proxy (DJANGO_BEHIND_HTTPS_PROXY)
    that is the last address X-Forwarded-For names, the one the proxy added; the ones before it
    are the client's to make up."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.rsplit(",", 1)[-1].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _visitor(group: str, request: HttpRequest) -> str:
    return str(request.session.session_key)


def _address(group: str, request: HttpRequest) -> str:
    return client_address(request)


def throttled(group: str, *, per_visitor: str, per_address: str = "") -> Callable[[View], View]:
    """Refuse the view's request past the rates named by these settings (e.g. "10/m")."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if settings.SHOP_THROTTLE:
                limits = []
                # A visitor without a session yet is known only by their address, which the
                # address's looser rate counts: many first-time buyers share one behind a NAT.
                if request.session.session_key:
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
# Trying a discount code: per visitor (a code is guessed from one session).
code_limited = throttled("discount-code", per_visitor="SHOP_THROTTLE_CODES_PER_VISITOR")


def _count(request: HttpRequest, *, group: str, key: Callable[..., str], rate: str) -> None:
    global _redis_down_until, _warned_at
    if time.monotonic() < _redis_down_until:
        return
    try:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=True)
    except RedisError as exc:
        _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        if time.monotonic() - _warned_at > WARN_EVERY_SECONDS:
            _warned_at = time.monotonic()
            logger.warning(
                "Redis does not answer (%s): the abuse limits are off until it does", exc
            )
        return
    if usage is not None and usage["should_limit"]:
        raise TooMany(
            _("Too many attempts in a short time. Please wait a minute and try again."),
            retry_after=max(1, int(usage["time_left"])),
        )
