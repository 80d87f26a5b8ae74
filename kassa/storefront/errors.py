"""The site-wide answers to what Django refuses before (or instead of) a view: a 400, a 403, a
404, a CSRF failure, a 500, each JSON for JSON endpoints and JSON clients, and in the API's
shape under /api/ (kassa.api.errors).

An error page must never fail itself: it is what answers a request that is already broken.
Django's own pages run the CSRF check again (`requires_csrf_token`), which reads the body and
the Host, so each handler first makes sure neither can raise (see `_never_fails`).
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import BadRequest, DisallowedHost, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404
from django.views import csrf, defaults

from kassa.common.charset import UnreadableBody
from kassa.common.http import (
    BAD_REQUEST,
    BAD_REQUEST_MESSAGE,
    CSRF_FAILED,
    CSRF_REFUSED_MESSAGE,
    FORBIDDEN,
    FORBIDDEN_MESSAGE,
    NOT_FOUND,
    NOTHING_HERE,
    SERVER_ERROR,
    SERVER_ERROR_MESSAGE,
    Answers,
    answers_of,
    json_error,
    not_found_answer,
    wants_json,
)
from kassa.common.routes import view_for_malformed_id

logger = logging.getLogger(__name__)

# Everything under it is the API's, which answers only JSON, whatever the client accepts.
API_PREFIX = "/api/"

# What a handler answers when it cannot answer otherwise: no template, no translation.
_PLAIN = {
    400: "Bad request (400)",
    403: "Forbidden (403)",
    404: "Not found (404)",
    500: "Server error (500)",
}

Handler = Callable[..., HttpResponse]


def _never_fails(status: int) -> Callable[[Handler], Handler]:
    """Make an error handler safe against the request it answers: a body that cannot be parsed
    is marked so (Django then reads it as empty, as it does after a multipart error), a Host
    the shop does not serve gets the plain answer, and should the page still fail, the plain
    answer is given instead of a second error."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                request.get_host()
            except DisallowedHost:
                # Django's security log has said so, in its one line.
                return HttpResponse(
                    _PLAIN[status], status=status, content_type="text/plain; charset=utf-8"
                )
            try:
                _disarm_body(request)
                return handler(request, *args, **kwargs)
            except Exception as exc:
                if isinstance(exc, SuspiciousOperation | BadRequest):
                    logger.warning("the %s page answered plainly: %r", status, exc)
                else:
                    logger.exception("the %s page failed", status)
                return HttpResponse(
                    _PLAIN[status], status=status, content_type="text/plain; charset=utf-8"
                )

        return wrapper

    return decorate


def _disarm_body(request: HttpRequest) -> None:
    try:
        request.POST  # noqa: B018 - parsed here, so a failure is caught here
    except Exception:
        request._mark_post_parse_error()  # type: ignore[attr-defined]


@_never_fails(400)
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a malformed request (a body in a charset the shop cannot read, a bad Host)."""
    if _in_json(request, _answers_of_resolved(request)):
        message = exception.message if isinstance(exception, UnreadableBody) else None
        return json_error(message or BAD_REQUEST_MESSAGE, code=BAD_REQUEST, status=400)
    return defaults.bad_request(request, exception)


@_never_fails(403)
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: a view's PermissionDenied."""
    if _in_json(request, _answers_of_resolved(request)):
        return json_error(FORBIDDEN_MESSAGE, code=FORBIDDEN, status=403)
    return defaults.permission_denied(request, exception)


@_never_fails(404)
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a path that matched no route, or a view's Http404 it did not answer itself.
    A path shaped like a route but for its id ("/buy/abc") is that route's 404."""
    if _in_api(request):
        # An Http404's words are a developer's ("No such order."); the customer's are the shop's.
        return json_error(NOTHING_HERE, code=NOT_FOUND, status=404)
    if isinstance(exception, Resolver404):
        answers = answers_of(view_for_malformed_id(request.path_info))
    else:
        answers = _answers_of_resolved(request)
    response = not_found_answer(request, answers)
    if response is not None:
        return response
    return defaults.page_not_found(request, exception)


@_never_fails(403)
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the view that was refused says whether to answer JSON."""
    if _in_json(request, _answers_of_resolved(request)):
        return json_error(CSRF_REFUSED_MESSAGE, code=CSRF_FAILED, status=403)
    return csrf.csrf_failure(request, reason)


@_never_fails(500)
def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON for JSON endpoints and clients, templates/500.html otherwise."""
    if _in_json(request, _answers_of_resolved(request)):
        return json_error(SERVER_ERROR_MESSAGE, code=SERVER_ERROR, status=500)
    return defaults.server_error(request)


def _answers_of_resolved(request: HttpRequest) -> Answers | None:
    match = getattr(request, "resolver_match", None)  # None before (or without) a route
    return answers_of(match.func) if match else None


def _in_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _in_json(request: HttpRequest, answers: Answers | None) -> bool:
    if _in_api(request):
        return True
    return answers.in_json(request) if answers else wants_json(request)
