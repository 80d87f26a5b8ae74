"""Request metrics for every request, and /metrics itself.

/metrics is answered here, ahead of the security middleware and of any URL: Prometheus
scrapes each replica by its own address over plain HTTP inside the deployment's network, with
a Host no ALLOWED_HOSTS lists and no TLS, and the answer uses neither. Who may read it is
decided by address or token (kassa.metrics.access); anyone else gets the shop's ordinary 404.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, ResolverMatch, resolve

from kassa.metrics import instruments
from kassa.metrics.access import may_read_metrics
from kassa.metrics.exposition import exposition

PATHS = frozenset({"/metrics", "/metrics/"})


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response: HttpResponseBase
        if request.path_info in PATHS and _may_scrape(request):
            response = _metrics()
            view = "metrics"
        else:
            # Anyone else, /metrics included, gets what the shop answers without this
            # middleware: no route has that path, so the ordinary 404 page, with its headers.
            response = self.get_response(request)
            view = _view_name(request)
        instruments.request_answered(
            view=view,
            method=request.method or "",
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


def _may_scrape(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and may_read_metrics(request)


def _metrics() -> HttpResponse:
    body, content_type = exposition()
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


def _view_name(request: HttpRequest) -> str:
    """The route's name ("catalog:item"), never the path: paths carry ids and whatever else a
    client makes up."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name if match.url_name else _name_of_unnamed(match, request.path_info)
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"  # answered by WhiteNoise before any route
    return "unmatched"


# Route pattern → its label, for routes without a name of their own (one entry per route).
_unnamed: dict[str, str] = {}


def _name_of_unnamed(match: ResolverMatch, path: str) -> str:
    """kassa.common.routes names a route's slashed form only ("/buy/1/" is "payments:buy",
    "/buy/1" has no name): the unslashed form is counted under the slashed one's name."""
    label = _unnamed.get(match.route)
    if label is None:
        try:
            slashed = resolve(path + "/")
        except Resolver404:
            slashed = None
        same = slashed is not None and slashed.url_name and slashed.func == match.func
        label = slashed.view_name if same and slashed else match.view_name
        _unnamed[match.route] = label
    return label
