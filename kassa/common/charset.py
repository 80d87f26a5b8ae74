"""Refuse, before anything reads it, a request body in a character set the shop cannot read.

Django ignores a charset it does not know (and decodes the body as UTF-8 regardless), and
refuses a form (`application/x-www-form-urlencoded`) in any charset but UTF-8 with BadRequest
each time `request.POST` is read: the CSRF check reads it, then the 400 page's own CSRF check
(`requires_csrf_token`) reads it again, and so does the 500 page's, so one 200-byte request
ended in a traceback from every error handler. Here such a request is a plain 400 before the
CSRF check runs. A form says its charset only when a client makes one up (browsers send none),
so nothing a customer's browser sends is refused; a UTF-8 charset spelled another way ("utf8",
"UTF_8") is read as UTF-8.
"""

import codecs
import logging
from collections.abc import Callable
from typing import cast

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponseBase
from django.urls import get_resolver, get_urlconf
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)

UNREADABLE_CHARSET = gettext_lazy(
    "The request's body is in a character set the shop cannot read: send it as UTF-8."
)
FORM = "application/x-www-form-urlencoded"


class UnreadableBody(BadRequest):
    """A body the shop will not read; its message is the customer's to see."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.message = str(UNREADABLE_CHARSET)


def charset_problem(request: HttpRequest) -> str | None:
    """Why the request's declared charset cannot be read, or None (no charset, or a good one).
    A UTF-8 charset spelled another way becomes the request's encoding, as "utf-8"."""
    charset = (request.content_params or {}).get("charset")
    if charset is None:
        return None
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return "unknown charset"
    if name == "utf-8":
        if request.encoding != "utf-8":
            request.encoding = "utf-8"  # Django's form check compares the spelling
        return None
    if request.content_type == FORM:
        return f"a form in {name}"
    return None


class RequestCharsetMiddleware:
    """Answer 400 to a body whose charset cannot be read (see the module's docstring). Placed
    before every middleware that reads a body (the CSRF check, the admin's lockout)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        problem = charset_problem(request)
        if problem is None:
            return self.get_response(request)
        logger.warning("refused %s %s: %s", request.method, request.path, problem)
        # The URLconf's own 400 answer (JSON for JSON endpoints and the API's shape under /api/).
        handler = cast(
            Callable[..., HttpResponseBase],
            get_resolver(get_urlconf()).resolve_error_handler(400),
        )
        return handler(request, UnreadableBody(problem))
