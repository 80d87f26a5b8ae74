"""Who is asking: the owner an order belongs to, taken from the request's session and user."""

from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Visitor:
    session_key: str
    user_id: int | None


def visitor_from_request(request: HttpRequest) -> Visitor:
    if request.session.session_key is None:
        # A visitor's first write: give them a session so their orders stay theirs.
        request.session.save()
    session_key = request.session.session_key
    assert session_key is not None
    user_id = request.user.pk if request.user.is_authenticated else None
    return Visitor(session_key=session_key, user_id=user_id)
