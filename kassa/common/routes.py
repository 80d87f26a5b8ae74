"""URL patterns that answer with and without the trailing slash, with no redirect hop; and the
route a path with a malformed id was meant for, whose view then answers its 404."""

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, get_urlconf, path
from django.urls.resolvers import RoutePattern

import kassa.common.converters  # noqa: F401 - registers the `id` converter the routes use

View = Callable[..., Any]


def route(pattern: str, view: View, name: str) -> list[URLPattern]:
    """`route("item/<id:item_id>", view, "item")`: reversing gives the slashed, canonical form."""
    return [path(f"{pattern}/", view, name=name), path(pattern, view)]


def view_for_malformed_id(url_path: str) -> View | None:
    """The view whose route `url_path` has the shape of, with an id that is not one ("abc",
    "1.5", 19 digits): such a path matches no route, yet its 404 is that view's to answer."""
    path_info = url_path.removeprefix("/")
    for pattern, view in _lenient_id_routes(get_urlconf() or settings.ROOT_URLCONF):
        if pattern.match(path_info):
            return view
    return None


@cache
def _lenient_id_routes(urlconf: str) -> list[tuple[RoutePattern, View]]:
    # Every route with an id, with `str` (any one path segment) in the id's place.
    return [
        (RoutePattern(route.replace("<id:", "<str:"), is_endpoint=True), view)
        for route, view in _id_routes(get_resolver(urlconf).url_patterns, "")
    ]


def _id_routes(
    patterns: Iterable[URLPattern | URLResolver], prefix: str
) -> Iterator[tuple[str, View]]:
    for entry in patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue  # re_path() routes take no ids
        full = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _id_routes(entry.url_patterns, full)
        elif "<id:" in full:
            yield full, entry.callback
