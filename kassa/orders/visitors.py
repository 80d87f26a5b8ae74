"""Who is asking: the owner an order belongs to, taken from the request's session and user."""

import secrets
from dataclasses import dataclass

from django.db.models import Q
from django.http import HttpRequest

SESSION_KEY = "kassa_visitor"


@dataclass(frozen=True)
class Visitor:
    token: str
    user_id: int | None
    # The token was made for this request: the visitor has no orders yet to look for.
    is_new: bool = False

    def owns(self) -> Q:
        """The orders this visitor may see: made in this browser, or by their user account."""
        mine = Q(visitor_token=self.token) if self.token else Q(pk__in=[])
        if self.user_id is not None:
            mine |= Q(user_id=self.user_id)
        return mine


def visitor_from_request(request: HttpRequest, *, create: bool = True) -> Visitor:
    """The visitor; with create=False a first-time visitor gets no session (reading pages)."""
    token = request.session.get(SESSION_KEY, "")
    is_new = False
    if not token and create:
        token = secrets.token_hex(16)
        request.session[SESSION_KEY] = token
        is_new = True
    user_id = request.user.pk if request.user.is_authenticated else None
    return Visitor(token=token, user_id=user_id, is_new=is_new and user_id is None)
