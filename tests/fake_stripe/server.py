"""The fake Stripe server.

stripe-python talks to it over real HTTP (`STRIPE_API_BASE`), so form encoding, headers, retries
and idempotency keys all run for real. It records every request, replays responses for a repeated
Idempotency-Key as Stripe does, and can inject latency, error statuses and dropped connections.
It can also enforce a rate limit as Stripe does: past N calls in any second, a 429 of Stripe's
shape, answered at once and never stored for the idempotency key's replay.
"""

import contextlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kassa.demo_stripe.encoding import parse_form
from tests.fake_stripe.resources import Resources, StripeError

# What Stripe answers a call past its rate limit, with HTTP 429.
RATE_LIMITED = {
    "error": {
        "type": "invalid_request_error",
        "code": "rate_limit",
        "message": "Too many requests hit the API too quickly. We recommend an exponential "
        "backoff of your requests.",
        "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
    }
}


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]
    body: dict[str, Any]
    api_key: str
    idempotency_key: str | None
    stripe_version: str | None
    at: float = field(default_factory=time.time)  # when it arrived (time.time())
    rate_limited: bool = False  # answered 429 by the rate limit


@dataclass
class Fault:
    status: int = 500  # 0 means: drop the connection without answering
    body: dict[str, Any] | None = None
    path_prefix: str = ""
    after_handling: bool = False  # drop only the answer: the request did its work


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    latency: float = 0.0
    # Calls a second before 429s (None: no limit), and when the calls it let through arrived.
    rate_limit: int | None = None
    admitted: deque[float] = field(default_factory=deque)
    # An idempotency key's answer, and the request it answered (its path and parameters).
    replay: dict[tuple[str, str], tuple[int, bytes, str]] = field(default_factory=dict)


class FakeStripe:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._state = _State()
        self.resources = Resources()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        # Called on every reset: a shop in this process that keeps the ids of Stripe objects
        # forgets them with the fake's objects.
        self.on_reset: list[Callable[[], None]] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "FakeStripe":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self._state = _State()
            self.resources = Resources()
        for forget in self.on_reset:
            forget()

    # --- control -------------------------------------------------------------------------------
    def set_latency(self, seconds: float) -> None:
        self._state.latency = seconds

    def set_rate_limit(self, per_second: int | None) -> None:
        """Answer 429 (as Stripe: `rate_limit`) to a call past `per_second` in the last second."""
        with self._lock:
            self._state.rate_limit = per_second
            self._state.admitted.clear()

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        body: dict[str, Any] | None = None,
        path: str = "",
    ) -> None:
        """The next `times` requests (to paths starting with `path`) answer `status`."""
        with self._lock:
            self._state.faults.extend(Fault(status, body, path) for _ in range(times))

    def drop_next(self, *, times: int = 1, path: str = "") -> None:
        """The next `times` requests get their connection closed without an answer."""
        self.fail_next(0, times=times, path=path)

    def lose_answer_next(self, *, path: str = "") -> None:
        """The next request does its work in Stripe, then its answer is lost on the way back
        (the connection closes): only an idempotency key keeps the retry from doing it twice."""
        with self._lock:
            self._state.faults.append(Fault(0, None, path, after_handling=True))

    # --- inspection ----------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._state.requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def most_in_one_second(self, *, admitted_only: bool = True) -> int:
        """The most calls that arrived within any one second (a sliding window)."""
        times = sorted(r.at for r in self.requests if not (admitted_only and r.rate_limited))
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    def average_rate(self) -> float:
        """Calls a second from the first to the last (those answered 429 left out)."""
        times = sorted(r.at for r in self.requests if not r.rate_limited)
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        return (len(times) - 1) / span if span else 0.0

    @property
    def rate_limited_count(self) -> int:
        return sum(1 for r in self.requests if r.rate_limited)

    # --- inside the handler --------------------------------------------------------------------
    def _record(self, state: _State, request: RecordedRequest) -> Fault | None:
        with self._lock:
            state.requests.append(request)
            for fault in state.faults:
                if request.path.startswith(fault.path_prefix):
                    state.faults.remove(fault)
                    return fault
        return None

    def _handle(self, request: RecordedRequest) -> tuple[int, bytes] | None:
        # The state when the request arrived: a slow request outliving its test (a timeout
        # test) must not show up in the next test's records.
        state, resources = self._state, self.resources
        if self._over_the_limit(state, request):
            return 429, json.dumps(RATE_LIMITED).encode()
        if state.latency:
            time.sleep(state.latency)
        fault = self._record(state, request)
        if fault is not None and fault.after_handling:
            self._answer(state, resources, request)
            return None
        if fault is not None:
            if fault.status == 0:
                return None
            body = fault.body or {
                "error": {"type": "api_error", "message": "Injected failure from the fake."}
            }
            return fault.status, json.dumps(body).encode()
        return self._answer(state, resources, request)

    def _over_the_limit(self, state: _State, request: RecordedRequest) -> bool:
        """Stripe's rate limit, on arrival: a sliding second of the calls it let through."""
        with self._lock:
            if state.rate_limit is None:
                return False
            while state.admitted and request.at - state.admitted[0] >= 1.0:
                state.admitted.popleft()
            if len(state.admitted) < state.rate_limit:
                state.admitted.append(request.at)
                return False
            request.rate_limited = True
            state.requests.append(request)
            return True

    def _answer(
        self, state: _State, resources: Resources, request: RecordedRequest
    ) -> tuple[int, bytes]:
        replay_key = (request.api_key, request.idempotency_key or "")
        asked = f"{request.path} {json.dumps(request.body, sort_keys=True)}"
        if request.method == "POST" and request.idempotency_key:
            with self._lock:
                if replay_key in state.replay:
                    status, body, first = state.replay[replay_key]
                    if first != asked:
                        # As Stripe: a key is bound to the request it was first sent with.
                        return 400, json.dumps(_idempotency_error(request)).encode()
                    return status, body
        if not request.api_key.startswith(("sk_", "rk_")):
            status, payload = (
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided.",
                    }
                },
            )
        else:
            try:
                status, payload = 200, resources.dispatch(request)
            except StripeError as exc:
                status, payload = exc.status, {"error": exc.payload()}
        answer = (status, json.dumps(payload).encode())
        if request.method == "POST" and request.idempotency_key:
            with self._lock:
                state.replay[replay_key] = (*answer, asked)
        return answer


def _idempotency_error(request: RecordedRequest) -> dict[str, Any]:
    return {
        "error": {
            "type": "idempotency_error",
            "message": (
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{request.idempotency_key}' "
                "if you meant to execute a different request."
            ),
        }
    }


def _handler_for(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The headers and the body leave in two writes; with Nagle's algorithm the body waits
        # for the client's delayed ACK of the headers, ~40 ms on every call (TCP_NODELAY).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            flat, nested = parse_form(raw if self.command == "POST" else query)
            auth = self.headers.get("Authorization", "")
            request = RecordedRequest(
                method=self.command,
                path=path,
                params=flat,
                body=nested,
                api_key=auth.removeprefix("Bearer ").strip(),
                idempotency_key=self.headers.get("Idempotency-Key"),
                stripe_version=self.headers.get("Stripe-Version"),
            )
            answer = fake._handle(request)
            if answer is None:
                self.close_connection = True
                self.connection.close()
                return
            status, body = answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(7))
            self.end_headers()
            # The client may have given up waiting (a timeout test): nothing left to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        do_GET = _serve
        do_POST = _serve
        do_DELETE = _serve

    return Handler
