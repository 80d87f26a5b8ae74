"""/api/v1/docs: Swagger UI from our own static files (Django Ninja ships them), started by a
script of ours, so the page needs no CDN and no inline script under the shop's CSP."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from ninja.openapi.docs import DocsBase


class StaticSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: Any, **kwargs: Any) -> HttpResponse:
        return render(
            request,
            "kassa/api_docs.html",
            {
                "title": api.title,
                "openapi_url": reverse(f"{api.urls_namespace}:openapi-json", kwargs=kwargs),
                # Try it out sends unsafe requests with the visitor's token, as the shop's
                # own pages do.
                "csrf": get_token(request),
            },
        )
