"""A real HTTP receiver of the shop's outgoing webhooks on 127.0.0.1, checking every request's
signature with the `standardwebhooks` library as an integrator's receiver would."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    path: str

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


# What the receiver answers a request: (status, extra headers, body).
Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Receiver:
    """Answers 200 unless `replies` (used up in order) or `reply` (a function of the request)
    say otherwise; `hold` keeps every answer back until it is set."""

    secret: str = ""
    received: list[Received] = field(default_factory=list)
    replies: list[int | Reply] = field(default_factory=list)
    reply: Callable[[Received], int | Reply] | None = None
    hold: threading.Event | None = None
    receiving: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {name.lower(): value for name, value in self.headers.items()}
                verified = False
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                request = Received(headers, body, verified, self.path)
                receiver.received.append(request)
                receiver.receiving.set()
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                answer: int | Reply = 200
                if receiver.replies:
                    answer = receiver.replies.pop(0)
                elif receiver.reply is not None:
                    answer = receiver.reply(request)
                status, extra, text = (answer, {}, b"ok") if isinstance(answer, int) else answer
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:
                    pass  # the shop hung up first (its deadline, a killed worker)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def types(self) -> list[str]:
        return [request.payload["type"] for request in self.received]

    def wait_for(self, count: int, *, seconds: float = 20.0, then: Callable[[], None]) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} webhooks received")
            then()
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()
