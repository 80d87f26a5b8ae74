"""PostgreSQL for tests that need a real server: where it is, and throwaway databases on it.

Locally a missing server skips those tests; under CI (the env var CI is set) it fails them, so a
CI machine without PostgreSQL cannot pass by skipping.
"""

import os
import select
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

DEFAULT_URL = "postgres://127.0.0.1:5432/test"


def server_url() -> str:
    """A database URL on the PostgreSQL server the suite uses (DATABASE_URL when it is one)."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_URL


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def require_server() -> str:
    """A URL to connect to for creating databases: the suite's database, or (when that is not
    created yet, as pytest-django does it) the server's maintenance database `postgres`."""
    url = server_url()
    error: psycopg.OperationalError | None = None
    for candidate in (url, with_database(url, "postgres")):
        try:
            with psycopg.connect(candidate, connect_timeout=5):
                return candidate
        except psycopg.OperationalError as exc:
            error = exc
    message = f"PostgreSQL is unreachable at {urlsplit(url).netloc}: {error}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """Create database `name` (dropping a leftover first), yield its URL, drop it after."""
    admin_url = require_server()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield with_database(admin_url, name)
        finally:
            admin.execute(drop)


class Wire:
    """What a connection sent PostgreSQL and what came back, as libpq's trace writes it."""

    def __init__(self) -> None:
        self.text = ""

    @property
    def round_trips(self) -> int:
        """Each query or batch the client waited for: the server's "ready" after it."""
        return self.text.count("ReadyForQuery")

    def sent(self, query: str) -> bool:
        """Whether `query` went as a whole simple query (BEGIN, COMMIT)."""
        return f'Query\t "{query}"' in self.text


@contextmanager
def wire(connection: "BaseDatabaseWrapper") -> Iterator[Wire]:
    """Trace Django's PostgreSQL `connection` on the wire while the block runs: the round
    trips psycopg makes, BEGIN and COMMIT included, which Django's query log does not tell."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    seen = Wire()
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield seen
        finally:
            pgconn.untrace()
            trace.seek(0)
            seen.text = trace.read()


def end_its_backend(connection: "BaseDatabaseWrapper") -> int:
    """End Django's PostgreSQL `connection` from another connection, as a server restart or an
    administrator would, and wait until its socket says so. Returns the ended backend's pid."""
    connection.ensure_connection()
    raw = connection.connection
    backend = int(raw.info.backend_pid)
    with psycopg.connect(raw.info.dsn, password=raw.info.password, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])
    # The server's last message and the socket's end arrive soon after it says it is done.
    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(50):
        assert time.monotonic() < deadline, "the server never ended the connection"
    return backend
