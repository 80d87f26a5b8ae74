"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1), and the worker that sends."""

import asyncio
import email
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_django.fixtures import Settings as SettingsWrapper


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    """What the server accepted. `refuse` answers every message with a temporary failure;
    `hold` keeps the DATA reply back until it is set (a send the client is killed during)."""

    messages: list[Message] = field(default_factory=list)
    refuse: bool = False
    hold: threading.Event | None = None
    receiving: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.receiving.set()
        if self.hold is not None:
            while not self.hold.is_set():
                await asyncio.sleep(0.05)
            if server.transport is None:
                return "451 4.4.2 connection lost"  # never accepted: the client is gone
        if self.refuse:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.original_content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def with_subject(self, words: str) -> list[Message]:
        return [message for message in self.messages if words in decoded_subject(message)]


def decoded_subject(message: Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def part(message: Message, content_type: str) -> str:
    for piece in message.walk():
        if piece.get_content_type() == content_type:
            payload = piece.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(piece.get_content_charset() or "utf-8")
    raise AssertionError(f"no {content_type} part")


class SMTPServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    def start(self) -> "SMTPServer":
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp(settings: SettingsWrapper) -> Iterator[SMTPServer]:
    """A running SMTP server the shop sends its mail to, with staff addresses set."""
    server = SMTPServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.SHOP_STAFF_EMAILS = ["staff@kassa.example"]
    settings.DEFAULT_FROM_EMAIL = "Kassa <shop@kassa.example>"
    settings.MAIL_RETRY_BASE_SECONDS = 0.2
    yield server
    server.stop()


def run_worker() -> None:
    """django-tasks' database worker, in this process, until no task is ready."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["mail", "webhooks", "default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    ).run()


def wait_for(
    check: Callable[[], bool], *, seconds: float = 20.0, then: Callable[[], None] | None = None
) -> None:
    """Until `check()` holds, running `then()` between looks (the worker, say)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        if then is not None:
            then()
        time.sleep(0.05)
