"""URL patterns that answer with and without the trailing slash, with no redirect hop."""

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path


def route(pattern: str, view: Callable[..., Any], name: str) -> list[URLPattern]:
    """`route("item/<str:item_id>", view, "item")`: reversing gives the slashed, canonical form."""
    return [path(f"{pattern}/", view, name=name), path(pattern, view)]
