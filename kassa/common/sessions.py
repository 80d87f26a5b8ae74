"""Django's database sessions, without the SELECT before a new visitor's INSERT.

Django draws a new session key and asks the database whether it is taken before the INSERT
that creates the session. The INSERT already refuses a taken key (it is the primary key), and
`SessionBase.create` then draws another, so the question costs a query and protects nothing.
A new visitor's first Buy click creates their session, so that query would sit on the shop's
busiest path.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        # Django's alphabet and length: 165 random bits. A taken key is still refused, by the
        # INSERT rather than a SELECT before it.
        return get_random_string(32, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()
