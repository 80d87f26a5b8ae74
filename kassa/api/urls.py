"""/api/v1/: the API's operations (with and without a trailing slash, as every shop path), then
a 404 in the API's shape for every other path under /api/."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, include, path, re_path

from kassa.api import errors
from kassa.api.routes import api

View = Callable[..., HttpResponse]


def _json_405(view: View) -> View:
    """Django Ninja answers a method no operation has with an empty 405; ours is JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = [method.strip() for method in response["Allow"].split(",")]
            return errors.method_not_allowed(allowed)
        return response

    return wrapper


def _operations() -> list[URLPattern]:
    patterns, _app_name, _namespace = api.urls
    routes: list[URLPattern] = []
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)
        view = _json_405(pattern.callback)
        route = str(pattern.pattern)
        routes.append(path(route, view, name=pattern.name))
        if route and not route.endswith("/"):
            routes.append(path(f"{route}/", view))
    return routes


urlpatterns = [
    path("api/v1/", include((_operations(), "api-v1"))),
    re_path(r"^api(?:/|$)", errors.unknown_route),
]
