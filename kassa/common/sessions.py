"""Django's database sessions, a new visitor's written with one INSERT and nothing around it.

Django draws a new session key and asks the database whether it is taken before the INSERT
that creates the session. The INSERT already refuses a taken key (it is the primary key), and
`SessionBase.create` then draws another, so the question costs a query and protects nothing.
Django also wraps that INSERT in a transaction of its own, so that a refused key cannot break an
outer one; outside any transaction a refused INSERT breaks nothing, so there the INSERT goes
alone (kassa.common.inserts), without the BEGIN and COMMIT around it. A new visitor's first Buy
click creates their session, so each of those would sit on the shop's busiest path.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import IntegrityError, connections, router

from kassa.common.inserts import insert
from kassa.common.random_strings import random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        # Django's alphabet and length: 165 random bits, drawn in one read. A taken key is
        # still refused, by the INSERT rather than a SELECT before it.
        return random_string(32, VALID_KEY_CHARS)

    async def _aget_new_session_key(self) -> str:
        return self._get_new_session_key()

    def save(self, must_create: bool = False) -> None:
        if not must_create or self.session_key is None:
            super().save(must_create=must_create)
            return
        obj = self.create_model_instance(self._get_session(no_load=True))  # type: ignore[attr-defined]
        if connections[router.db_for_write(self.model, instance=obj)].in_atomic_block:
            super().save(must_create=True)  # a savepoint keeps a refused key from the outer one
            return
        try:
            insert(obj)
        except IntegrityError:
            raise CreateError from None  # the key is taken: create() draws another
