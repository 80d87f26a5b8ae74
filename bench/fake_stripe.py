"""A light fake Stripe for load: asyncio, one process, a few microseconds of CPU per call.

The test suite's fake (tests/fake_stripe) is a ThreadingHTTPServer that keeps every request
and object and prices every session; under a load of hundreds of calls a second its CPU would
come out of the two cores the shop is measured on, while the real Stripe costs the shop's
machine nothing. This one answers the calls the shop makes on the Buy path with the same shapes,
waits `--latency` seconds without holding a thread, and counts calls per route for the
benchmark (GET /_bench/counts, with the connections clients opened). Like Stripe, it can
enforce a rate limit (--rate-limit, or GET /_bench/limit?per_second=N; 0 lifts it): a call past N
in the last second is answered 429 with Stripe's `rate_limit` error at once, and counted.

    python -m bench.fake_stripe --port 12111 --latency 0.3 [--rate-limit 25]
"""

import argparse
import asyncio
import json
import secrets
import signal
import time
from collections import Counter, deque
from typing import Any
from urllib.parse import parse_qsl

RATE_LIMITED = {
    "error": {
        "type": "invalid_request_error",
        "code": "rate_limit",
        "message": "Too many requests hit the API too quickly.",
    }
}


class FakeStripe:
    def __init__(self, latency: float, rate_limit: int = 0) -> None:
        self.latency = latency
        self.counts: Counter[str] = Counter()
        self.connections = 0  # that made API calls: shows whether the shop reuses them
        self.rate_limit = rate_limit  # calls a second before 429s; 0: none
        self.admitted: deque[float] = deque()  # when the calls let through arrived
        self.busiest_second = 0  # the most calls let through within one (sliding) second

    def over_the_limit(self) -> bool:
        if not self.rate_limit:
            return False
        now = time.monotonic()
        while self.admitted and now - self.admitted[0] >= 1.0:
            self.admitted.popleft()
        if len(self.admitted) >= self.rate_limit:
            return True
        self.admitted.append(now)
        self.busiest_second = max(self.busiest_second, len(self.admitted))
        return False

    def route(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """The calls the bench's checkouts make; anything else is a 404 the shop shows."""
        if path == "/v1/checkout/sessions" and method == "POST":
            return 200, self.create_session(form)
        if path == "/v1/coupons" and method == "POST":
            return 200, {"id": secrets.token_hex(4), "object": "coupon", "valid": True}
        if path == "/v1/tax_rates" and method == "POST":
            return 200, {"id": "txr_test_" + secrets.token_hex(12), "object": "tax_rate"}
        if path == "/v1/shipping_rates" and method == "POST":
            return 200, {"id": "shr_test_" + secrets.token_hex(12), "object": "shipping_rate"}
        return 404, {"error": {"type": "invalid_request_error", "message": f"No {path}."}}

    def create_session(self, form: dict[str, str]) -> dict[str, Any]:
        """A new session's fields as the shop reads them (no amounts: it never reads them back
        on the Buy path, and the bench never pays)."""
        session_id = "cs_test_" + secrets.token_hex(12)
        now = int(time.time())
        return {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {"order_id": form["metadata[order_id]"]}
            if "metadata[order_id]" in form
            else {},
            "payment_intent": None,
            "created": now,
            "expires_at": now + 24 * 3600,
            "livemode": False,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        calling = False
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in header_lines if line)
                }
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                path, _, query = target.partition("?")
                if not calling and path.startswith("/v1/"):
                    calling = True
                    self.connections += 1
                status, payload = await self.answer(method, path, query, body, headers)
                data = json.dumps(payload).encode()
                # One write per response: headers and body leave in one segment.
                writer.write(
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n"
                    f"Request-Id: req_{secrets.token_hex(7)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def answer(
        self, method: str, path: str, query: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if path == "/_bench/counts":
            return 200, {
                "calls": dict(self.counts),
                "connections": self.connections,
                "busiest_second": self.busiest_second,
            }
        if path == "/_bench/limit":
            self.rate_limit = int(dict(parse_qsl(query)).get("per_second", "0"))
            self.admitted.clear()
            self.busiest_second = 0
            return 200, {"rate_limit": self.rate_limit}
        if self.over_the_limit():
            self.counts["429"] += 1
            return 429, RATE_LIMITED
        self.counts[f"{method} {path}"] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        if not headers.get("authorization", "").startswith("Bearer sk_"):
            return 401, {"error": {"type": "invalid_request_error", "message": "Bad API key."}}
        form = dict(parse_qsl(body.decode() if method == "POST" else query))
        return self.route(method, path, form)


async def main(port: int, latency: float, rate_limit: int) -> None:
    fake = FakeStripe(latency, rate_limit)
    server = await asyncio.start_server(fake.serve, "127.0.0.1", port, backlog=1024)
    print(f"bench fake Stripe on http://127.0.0.1:{port} (latency {latency}s)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds added to each answer")
    parser.add_argument("--rate-limit", type=int, default=0, help="calls a second, then 429s")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.latency, args.rate_limit))
