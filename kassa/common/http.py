"""How views answer what went wrong: the one mapping of shop errors to HTTP, as JSON or a page.

A view states how it answers with one decorator: `@json_endpoint(...)` for views that speak only
JSON, `@page_or_json(...)` for pages that answer JSON to `Accept: application/json`. Both take the
methods the view answers (none named: any) and the message its 404 gives. Then a `ShopError` raised
in the view becomes `{"error": message, "code": code}` with its kind's status (or, for a page's form
post, a message on the page the view names as `back`), a wrong method a 405 with `Allow`, and a 404
the view's message. The decorators leave their `Answers` on the view, so the 404 of a malformed id
(which reaches no view) and a CSRF refusal (kassa.storefront.errors) answer as the view would.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from django.utils.log import log_response
from django.utils.translation import gettext, gettext_lazy
from django_stubs_ext import StrOrPromise

from kassa.common.errors import (
    Conflict,
    Invalid,
    NotFound,
    NotSignedIn,
    ProviderRejected,
    ShopError,
    TooMany,
    Unavailable,
)

View = Callable[..., HttpResponse]

STATUS_OF_KIND: dict[type[ShopError], int] = {
    Invalid: 400,
    NotSignedIn: 401,
    NotFound: 404,
    Conflict: 409,
    ProviderRejected: 502,
    TooMany: 429,
    Unavailable: 503,
}

# What every JSON error says for a program (`code`), where it is not a ShopError's own code.
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
BAD_REQUEST = "bad_request"
FORBIDDEN = "forbidden"
CSRF_FAILED = "csrf_failed"
SERVER_ERROR = "server_error"

# ... and for a person (`error`).
NOTHING_HERE = gettext_lazy("There is nothing at this address.")
BAD_REQUEST_MESSAGE = gettext_lazy("The request is malformed, so the shop cannot use it.")
FORBIDDEN_MESSAGE = gettext_lazy("You may not do this.")
CSRF_REFUSED_MESSAGE = gettext_lazy(
    "The request was refused because it carried no valid CSRF token. Reload the page and try again."
)
SERVER_ERROR_MESSAGE = gettext_lazy(
    "The shop hit an unexpected error. Nothing was charged. Please try again in a minute."
)

_ANSWERS = "kassa_answers"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def status_of(error: ShopError) -> int:
    """The HTTP status of `error`'s kind (the first kind it names); 500 for an error of none."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF_KIND:
            return STATUS_OF_KIND[cls]
    return 500


def json_error(message: StrOrPromise, *, code: str, status: int) -> JsonResponse:
    """Every JSON error the shop answers, pages' and the API's alike: `{"error", "code"}`."""
    return JsonResponse({"error": str(message), "code": code}, status=status)


def shop_error_answer(error: ShopError) -> JsonResponse:
    """A ShopError as JSON: its message, its class's code, its kind's status, its Retry-After."""
    answer = json_error(error.message, code=error.code, status=status_of(error))
    if error.retry_after is not None:
        answer["Retry-After"] = str(error.retry_after)
    return answer


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@dataclass(frozen=True)
class Answers:
    """How one view answers what goes wrong."""

    json_only: bool
    not_found: StrOrPromise
    # The page a refused form post returns to, from the view's URL arguments; without one a
    # ShopError is answered as JSON even to a page.
    back: Callable[..., str] | None = None

    def in_json(self, request: HttpRequest) -> bool:
        return self.json_only or wants_json(request)


def answers_of(view: Callable[..., Any] | None) -> Answers | None:
    """The `Answers` a view was decorated with, if any."""
    answers = getattr(view, _ANSWERS, None)
    return answers if isinstance(answers, Answers) else None


def not_found_answer(request: HttpRequest, answers: Answers | None) -> HttpResponse | None:
    """The JSON 404 for a JSON client of a view (None: the HTML 404 page answers)."""
    if answers is not None and answers.in_json(request):
        return json_error(answers.not_found, code=NOT_FOUND, status=404)
    if wants_json(request):
        return json_error(NOTHING_HERE, code=NOT_FOUND, status=404)
    return None


def method_not_allowed(
    request: HttpRequest, allowed: Sequence[str], *, as_json: bool
) -> HttpResponse:
    response: HttpResponse
    if as_json:
        response = json_error(
            gettext("This address answers only %(methods)s.") % {"methods": ", ".join(allowed)},
            code=METHOD_NOT_ALLOWED,
            status=405,
        )
        response["Allow"] = ", ".join(allowed)
    else:
        response = HttpResponseNotAllowed(allowed)
    log_response(
        "Method Not Allowed (%s): %s",
        request.method,
        request.path,
        response=response,
        request=request,
    )
    return response


def json_endpoint(*methods: str, not_found: StrOrPromise = NOTHING_HERE) -> Callable[[View], View]:
    """A view that speaks only JSON: every error it answers is `{"error", "code"}`."""
    return _answering(methods, Answers(json_only=True, not_found=not_found))


def page_or_json(
    *methods: str,
    not_found: StrOrPromise = NOTHING_HERE,
    back: Callable[..., str] | None = None,
) -> Callable[[View], View]:
    """A page that answers JSON to `Accept: application/json`. A ShopError raised for a page
    becomes a message shown on `back(**url_kwargs)`, where the customer is sent."""
    return _answering(methods, Answers(json_only=False, not_found=not_found, back=back))


def _answering(methods: Sequence[str], answers: Answers) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = _answer(view, answers, methods, request, *args, **kwargs)
            if not answers.json_only:
                # The same address answers HTML or JSON: caches must tell them apart.
                patch_vary_headers(response, ["Accept"])
            return response

        wrapper.__dict__[_ANSWERS] = answers
        if methods and set(methods) <= _SAFE_METHODS:
            # A view that only reads never acts on a POST: it answers 405, so the CSRF check
            # (which runs first, and would answer 403) has nothing to protect.
            wrapper.__dict__["csrf_exempt"] = True
        return wrapper

    return decorate


def _answer(
    view: View,
    answers: Answers,
    methods: Sequence[str],
    request: HttpRequest,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    as_json = answers.in_json(request)
    if methods and request.method not in methods:
        return method_not_allowed(request, methods, as_json=as_json)
    try:
        return view(request, *args, **kwargs)
    except ShopError as error:
        if as_json or answers.back is None:
            return shop_error_answer(error)
        messages.error(request, error.message)
        refused = redirect(answers.back(**kwargs))
        if error.retry_after is not None:
            refused["Retry-After"] = str(error.retry_after)
        return refused
    except Http404:
        response = not_found_answer(request, answers)
        if response is None:
            raise
        return response
