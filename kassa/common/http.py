"""Small HTTP helpers shared by the apps' views."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django_stubs_ext import StrOrPromise

from kassa.common.errors import (
    Conflict,
    Invalid,
    NotFound,
    ProviderRejected,
    ShopError,
    Unavailable,
)

View = Callable[..., HttpResponse]

# The one place a ShopError's kind becomes an HTTP status.
STATUS_OF_KIND: dict[type[ShopError], int] = {
    Invalid: 400,
    NotFound: 404,
    Conflict: 409,
    ProviderRejected: 502,
    Unavailable: 503,
}


def status_of(error: ShopError) -> int:
    """The HTTP status of `error`'s kind (the first kind it names); 500 for an error of none."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF_KIND:
            return STATUS_OF_KIND[cls]
    return 500


def json_error(message: StrOrPromise, *, status: int) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=status)


def parse_id(raw: str) -> int:
    """A path id as an int; anything else is a 404, like an id that does not exist."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Http404("No such id.")
    return int(raw)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_not_found(message: StrOrPromise, *, always: bool = False) -> Callable[[View], View]:
    """A view decorator: a 404 becomes `{"error": message}` for clients that asked for JSON
    (or for every client, with always=True, on endpoints that only speak JSON)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except Http404:
                if always or wants_json(request):
                    return json_error(message, status=404)
                raise

        return wrapper

    return decorate
