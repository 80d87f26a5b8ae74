"""Pages rendered once per language and shared by every visitor (the catalog's, for now).

A shared copy is rendered without a request, so nothing of one visitor's can end up in it. What
belongs to a visitor is a marker in the copy, replaced for each response: the CSRF token of the
page's forms, the page's own address (the language switch returns to it) and the values of the
context processors in settings.SHARED_PAGES_VISITOR_CONTEXT (the header's cart link). Markers
hold a NUL, which no form accepts and no escaping adds or removes. A visitor with a message
waiting (messages framework) gets the whole page rendered for them, as does everyone when DEBUG
is on (templates being edited).

Copies live in this process's memory (the "pages" cache) under the caller's key and version; the
caller changes the version when what its pages show changes (kassa.catalog.revision).
"""

from collections.abc import Callable, Mapping
from functools import cache

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.module_loading import import_string
from django.utils.translation import get_language

from kassa.common.context_processors import page_path

Processor = Callable[[HttpRequest], Mapping[str, object]]


def page(
    request: HttpRequest,
    *,
    key: str,
    version: str,
    template: str,
    context: Callable[[], Mapping[str, object]],
) -> HttpResponse:
    """`template` with `context()`, from the shared copy of (`key`, `version`, language)."""
    if settings.DEBUG or len(get_messages(request)) > 0:  # len() leaves the messages unshown
        return render(request, template, context())
    pages = caches["pages"]
    cache_key = f"{version}:{get_language()}:{key}"
    html: str | None = pages.get(cache_key)
    if html is None:
        html = render_to_string(template, {**context(), **_markers()})
        pages.set(cache_key, html)
    return HttpResponse(_personalise(request, html))


def _personalise(request: HttpRequest, html: str) -> str:
    values: dict[str, object] = {"csrf_token": get_token(request)}
    for processor, _ in _visitor_processors():
        values.update(processor(request))
    for name, marker in _markers().items():
        html = html.replace(marker, escape(values[name]))
    return html


@cache
def _markers() -> dict[str, str]:
    names = ["csrf_token"] + [name for _, names in _visitor_processors() for name in names]
    return {name: f"\x00kassa:{name}\x00" for name in names}


@cache
def _visitor_processors() -> tuple[tuple[Processor, tuple[str, ...]], ...]:
    configured: dict[Processor, tuple[str, ...]] = {page_path: ("page_path",)}
    for path, names in settings.SHARED_PAGES_VISITOR_CONTEXT.items():
        configured[import_string(path)] = tuple(names)
    return tuple(configured.items())
