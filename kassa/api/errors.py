"""The shop's one error shape, `{"error": message, "code": code}` (kassa.common.http), for
everything that can go wrong in an API operation: the shop's errors (their kind's status and
their class's code), a 404, invalid input, a missing CSRF token, a wrong method, a body too
large, a bug. What goes wrong before an operation runs is kassa.storefront.errors' to answer."""

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from kassa.common.errors import ShopError
from kassa.common.http import (
    CSRF_FAILED,
    CSRF_REFUSED_MESSAGE,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    NOTHING_HERE,
    SERVER_ERROR,
    SERVER_ERROR_MESSAGE,
    json_error,
    shop_error_answer,
)

logger = logging.getLogger(__name__)

VALIDATION_ERROR = "validation_error"
TOO_LARGE = "payload_too_large"
INVALID_JSON = "invalid_json"

TOO_LARGE_MESSAGE = gettext_lazy("The request body is too large.")
NOT_JSON_MESSAGE = gettext_lazy("The request body is not valid JSON.")

# Every status an operation can answer with this shape, and what each means, for the schema.
STATUS_MEANINGS: dict[int, str] = {
    400: "The request cannot be used: not JSON, an invalid quantity, code or e-mail address.",
    401: "Not signed in: sign in with a code sent by e-mail first.",
    403: "No valid CSRF token (unsafe methods).",
    404: "No such thing, or not the visitor's.",
    405: "The address does not answer this method.",
    409: "The order's state does not allow it now (a checkout started, another currency).",
    413: "The request body is too large.",
    422: "The request does not match the schema.",
    429: "Done too often just now (SHOP_THROTTLE): try again after Retry-After seconds.",
    500: "The shop hit an unexpected error.",
    502: "Stripe refused the shop's request.",
    503: "Payments are not set up, or Stripe cannot be reached or is busy (then with Retry-After).",
}


class CsrfRefused(Exception):
    """An unsafe request without a valid CSRF token (kassa.api.csrf)."""


error = json_error


def shop_error(request: HttpRequest, exc: ShopError) -> HttpResponse:
    return shop_error_answer(exc)


def not_found(request: HttpRequest, exc: Exception | None = None) -> HttpResponse:
    # An Http404's words are a developer's ("No such order."); the customer's are the shop's.
    return error(NOTHING_HERE, code=NOT_FOUND, status=404)


def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error(
        gettext("The request does not match the API's schema: %(problem)s")
        % {"problem": _first_problem(exc.errors)},
        code=VALIDATION_ERROR,
        status=422,
    )


def _first_problem(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "?"
    first = errors[0]
    # ("body", "payload", "quantity") -> "quantity"; the request part and the argument's name
    # say nothing to a client.
    where = [str(part) for part in first.get("loc", ())[2:]]
    message = str(first.get("msg", ""))
    return f"{'.'.join(where)}: {message}" if where else message


def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Django Ninja's own refusals; the only one its operations here can meet is a body that
    # does not parse.
    if exc.status_code == 400:
        return not_json(request, exc)
    return error(str(exc), code="error", status=exc.status_code)


def not_json(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error(NOT_JSON_MESSAGE, code=INVALID_JSON, status=400)


def csrf_refused(request: HttpRequest, exc: CsrfRefused) -> HttpResponse:
    return error(CSRF_REFUSED_MESSAGE, code=CSRF_FAILED, status=403)


def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error(TOO_LARGE_MESSAGE, code=TOO_LARGE, status=413)


def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path)
    return error(SERVER_ERROR_MESSAGE, code=SERVER_ERROR, status=500)


def method_not_allowed(allowed: list[str]) -> JsonResponse:
    response = error(
        gettext("This address answers only %(methods)s.") % {"methods": ", ".join(allowed)},
        code=METHOD_NOT_ALLOWED,
        status=405,
    )
    response["Allow"] = ", ".join(allowed)
    return response


def install(api: NinjaAPI) -> None:
    """Answer every error of `api`'s operations in the one shape."""
    handlers: list[tuple[type[Exception], Callable[..., HttpResponse]]] = [
        (ShopError, shop_error),
        (Http404, not_found),
        (ValidationError, invalid),
        (HttpError, http_error),
        # Django's CSRF check reads a form body: a malformed one ("multipart" with no boundary).
        (MultiPartParserError, not_json),
        (CsrfRefused, csrf_refused),
        (RequestDataTooBig, too_large),
        (Exception, server_error),
    ]
    for exc_class, handler in handlers:
        api.add_exception_handler(exc_class, handler)


# --- What Django answers before an operation runs, for paths under /api/ -----------------------


@csrf_exempt  # it changes nothing: a POST gets the same 404, not a CSRF refusal as a page
def unknown_route(request: HttpRequest) -> HttpResponse:
    """Any path under /api/ that no operation has: 404, in the API's shape."""
    return not_found(request)
