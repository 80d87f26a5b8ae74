"""The request id: taken from X-Request-ID or made up, kept for the request, echoed in the response.

A reverse proxy that already stamps requests (nginx `$request_id`, a load balancer's trace id)
passes its id through, so one id follows a request across the proxy's and the shop's logs.
"""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
# Also kept on the request itself: Django logs a response's 4xx/5xx status after the middleware
# has returned, with the request attached to the record (see kassa.common.logs).
META_KEY = "kassa.request_id"
# Only ids that cannot forge or break a log line are taken from the client.
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")


def request_id_from(request: HttpRequest) -> str:
    incoming = request.headers.get(HEADER, "")
    if _ACCEPTABLE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Put the request id in `current_request_id` while the request runs (so every log line of
    the request carries it) and in the response's X-Request-ID header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_from(request)
        request.META[META_KEY] = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            # A worker thread serves many requests: the id must not leak into the next one.
            current_request_id.reset(token)
        response[HEADER] = request_id
        return response
