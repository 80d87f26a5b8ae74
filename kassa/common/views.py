"""The shop's own answers to what Django refuses before (or instead of) a view: a 404, a CSRF
failure, a 500, each JSON for JSON endpoints and JSON clients; and /healthz."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404
from django.utils.translation import gettext_lazy
from django.views import csrf, defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kassa.common.http import Answers, answers_of, json_error, not_found_answer, wants_json
from kassa.common.routes import view_for_malformed_id

CSRF_REFUSED = gettext_lazy(
    "The request was refused because it carried no valid CSRF token. Reload the page and try again."
)
SERVER_ERROR = gettext_lazy(
    "The shop hit an unexpected error. Nothing was charged. Please try again in a minute."
)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a path that matched no route, or a view's Http404 it did not answer itself.
    A path shaped like a route but for its id ("/buy/abc") is that route's 404."""
    if isinstance(exception, Resolver404):
        answers = answers_of(view_for_malformed_id(request.path_info))
    else:
        answers = _answers_of_resolved(request)
    response = not_found_answer(request, answers)
    if response is not None:
        return response
    return defaults.page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the view that was refused says whether to answer JSON."""
    if _in_json(request, _answers_of_resolved(request)):
        return json_error(CSRF_REFUSED, status=403)
    return csrf.csrf_failure(request, reason)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON for JSON endpoints and clients, templates/500.html otherwise."""
    if _in_json(request, _answers_of_resolved(request)):
        return json_error(SERVER_ERROR, status=500)
    return defaults.server_error(request)


def _answers_of_resolved(request: HttpRequest) -> Answers | None:
    match = getattr(request, "resolver_match", None)  # None before (or without) a route
    return answers_of(match.func) if match else None


def _in_json(request: HttpRequest, answers: Answers | None) -> bool:
    return answers.in_json(request) if answers else wants_json(request)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app answers and the database takes a query, 503 otherwise. It names no hosts,
    versions or errors: anyone who can reach the port can read it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
