"""CSRF for the API's unsafe operations: the visitor's identity is their session cookie, which a
browser sends from any site, so a POST, PUT, PATCH or DELETE must carry the CSRF token too.

Django Ninja marks its views CSRF-exempt and checks CSRF only in cookie-based auth classes; this
one runs Django's own check (the same cookie, header and Origin rules as the pages) and refuses
in the API's shape. Declared as an API key in the `X-CSRFToken` header, it shows in the schema
and in the docs' Authorize dialog.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security import APIKeyHeader

from kassa.api.errors import CsrfRefused


def _checked(request: HttpRequest) -> HttpResponse:
    """Stands for the operation in Django's check: a view that is not exempt."""
    raise AssertionError("never called")


_middleware = CsrfViewMiddleware(_checked)


class CsrfTokenHeader(APIKeyHeader):
    param_name = "X-CSRFToken"
    openapi_description = (
        "The visitor's CSRF token, from GET /api/v1/csrf, with the `csrftoken` cookie it set. "
        "Required on POST, PUT, PATCH and DELETE."
    )

    def __call__(self, request: HttpRequest) -> Any:
        # Read the body first: Django's check reads a multipart form's token from the request's
        # stream, after which the operation could not read the body at all (it answers 400).
        request.body  # noqa: B018
        if _middleware.process_view(request, _checked, (), {}) is not None:
            raise CsrfRefused
        return True

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return True  # __call__ decides


csrf_token = CsrfTokenHeader()
