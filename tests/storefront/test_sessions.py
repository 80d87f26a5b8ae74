"""The session store: Django's database sessions, a new key drawn without a query."""

import asyncio

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kassa.common import sessions
from kassa.common.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_new_session_is_one_insert() -> None:
    session = SessionStore()
    session["kassa_visitor"] = "abc"
    with CaptureQueriesContext(connection) as captured:
        session.save()

    written = [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]
    assert [sql.split(None, 1)[0] for sql in written] == ["INSERT"]
    assert SessionStore(session.session_key).load() == {"kassa_visitor": "abc"}


def test_a_new_session_never_takes_a_key_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = SessionStore()
    taken["kassa_visitor"] = "first visitor"
    taken.save()
    assert taken.session_key is not None
    fresh_key = "k" * 32
    drawn = iter([taken.session_key, fresh_key])
    monkeypatch.setattr(sessions, "random_string", lambda *args: next(drawn))

    second = SessionStore()
    second["kassa_visitor"] = "second visitor"
    second.save()

    assert second.session_key == fresh_key
    assert SessionStore(taken.session_key).load() == {"kassa_visitor": "first visitor"}
    assert SessionStore(fresh_key).load() == {"kassa_visitor": "second visitor"}
    assert Session.objects.count() == 2


def test_new_keys_look_like_djangos() -> None:
    keys = {SessionStore()._get_new_session_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(len(key) == 32 and key.isalnum() and key == key.lower() for key in keys)


def test_the_async_path_draws_a_key_without_asking_either(monkeypatch: pytest.MonkeyPatch) -> None:
    async def asked(self: SessionStore, session_key: str) -> bool:
        raise AssertionError("asked the database whether a new key is taken")

    monkeypatch.setattr(SessionStore, "aexists", asked)
    key = asyncio.run(SessionStore()._aget_new_session_key())
    assert len(key) == 32


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_new_session_is_the_insert_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As in a request: the INSERT with no BEGIN or COMMIT around it, and a taken key still
    refused by it and drawn again."""
    taken = SessionStore()
    taken["kassa_visitor"] = "first visitor"
    with CaptureQueriesContext(connection) as captured:
        taken.save()
    assert [q["sql"].split(None, 1)[0] for q in captured.captured_queries] == ["INSERT"]

    assert taken.session_key is not None
    drawn = iter([taken.session_key, "k" * 32])
    monkeypatch.setattr(sessions, "random_string", lambda *args: next(drawn))
    second = SessionStore()
    second["kassa_visitor"] = "second visitor"
    second.save()

    assert second.session_key == "k" * 32
    assert SessionStore(taken.session_key).load() == {"kassa_visitor": "first visitor"}
    assert SessionStore("k" * 32).load() == {"kassa_visitor": "second visitor"}
