"""The admin's answer to a login refused for too many failures (django-axes' AXES_LOCKOUT_CALLABLE):
a page of the admin's own, in the staff member's language, saying how long to wait."""

import math
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

STATUS = 429


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes calls this when a login is refused; it says nothing of whether the password
    was right, nor of which accounts exist."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0
    wait = (
        ngettext(
            "You can try again in %(minutes)s minute; each further try starts the wait again.",
            "You can try again in %(minutes)s minutes; each further try starts the wait again.",
            minutes,
        )
        % {"minutes": minutes}
        if minutes
        else _("Ask another administrator to lift the lockout.")
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Login locked"),
        "explanation": _(
            "There were too many failed attempts to log in to this account from your address, "
            "so logging in from here is locked for a while."
        ),
        "wait": wait,
    }
    response = TemplateResponse(request, "admin/lockout.html", context, status=STATUS)
    if cool_off:
        response["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    response.render()
    return response
