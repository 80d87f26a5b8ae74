"""CPU per Stripe call through stripe-python's own HTTP client and through ours
(kassa/stripe_api/http.py).

    .venv/bin/python -m bench.stripe_client [--calls 300] [--rounds 9]

Starts the test suite's fake Stripe in a process of its own (so its CPU is not counted), then
creates Checkout Sessions through two `stripe.StripeClient`s built as the gateway builds them,
one sending through `kassa.stripe_api.http.Urllib3Client`, the other through the client StripeClient
builds itself when given none (`stripe.RequestsClient`, requests being installed), with the same
timeout. Each round runs
`--calls` creates per client, the clients taking turns and alternating who goes first, and
measures this process's CPU time (`time.process_time`): a busy neighbour on a virtual machine
slows both clients of a round alike. The environment is a container's: PATH, HOME, NO_PROXY and
about thirty service variables, since requests reads the whole environment on every call.
Prints the medians, their ratio and the median of each round's ratio, and writes them as JSON to
bench/results/<UTC time>-stripe-client.json.
"""

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import stripe

from kassa.stripe_api.client import API_VERSION
from kassa.stripe_api.http import Urllib3Client

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
API_KEY = "sk_test_bench_account_secret"
TIMEOUT = 20.0
RETRIES = 2
WARM_UP = 50

# A Buy click's session: one line with its price inline, the order named three times.
PARAMS: dict[str, Any] = {
    "mode": "payment",
    "line_items": [
        {
            "price_data": {
                "currency": "usd",
                "unit_amount": 1450,
                "product_data": {"name": "Ceramic mug"},
            },
            "quantity": 1,
        }
    ],
    "client_reference_id": "1234",
    "metadata": {"order_id": "1234"},
    "payment_intent_data": {"metadata": {"order_id": "1234"}},
    "success_url": "https://shop.example/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "https://shop.example/checkout/cancel/?order=1234&attempt=1",
    "locale": "en",
}


def container_environment() -> dict[str, str]:
    """What a web container's process sees: a few basics and the services' link variables."""
    env = {
        "PATH": "/app/.venv/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/home/kassa",
        "HOSTNAME": "kassa-web-7d9f8c6b5-x2k4q",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "NO_PROXY": "localhost,127.0.0.1,.svc,.cluster.local",
        "no_proxy": "localhost,127.0.0.1,.svc,.cluster.local",
    }
    for service in ("POSTGRES", "REDIS", "KASSA_WEB", "KASSA_WORKER", "KUBERNETES"):
        prefix = f"{service}_SERVICE"
        env[f"{prefix}_HOST"] = "10.96.0.17"
        env[f"{prefix}_PORT"] = "5432"
        env[f"{service}_PORT"] = "tcp://10.96.0.17:5432"
        env[f"{service}_PORT_5432_TCP"] = "tcp://10.96.0.17:5432"
        env[f"{service}_PORT_5432_TCP_ADDR"] = "10.96.0.17"
        env[f"{service}_PORT_5432_TCP_PORT"] = "5432"
    return env


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def fake_stripe() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_stripe", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "listening on ...": it is serving
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def build(api_base: str, http_client: stripe.HTTPClient) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        stripe_version=API_VERSION,
        base_addresses={"api": api_base},
        max_network_retries=RETRIES,
        http_client=http_client,
    )


def cpu_ms_per_call(client: stripe.StripeClient, calls: int, round_no: int) -> float:
    start = time.process_time()
    for n in range(calls):
        client.v1.checkout.sessions.create(
            params=PARAMS,  # type: ignore[arg-type]
            options={"idempotency_key": f"bench-{round_no}-{n}-{os.getpid()}-{time.time_ns()}"},
        )
    return (time.process_time() - start) * 1000 / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="creates per client per round")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    if args.calls < 1 or args.rounds < 1:
        parser.error("--calls and --rounds must be at least 1")

    load_before, commit = os.getloadavg()[0], git_commit()
    os.environ.clear()
    os.environ.update(container_environment())
    # As the shop runs (kassa.stripe_api sets it when imported).
    assert stripe.enable_telemetry is False

    with fake_stripe() as api_base:
        clients: dict[str, Callable[[], stripe.HTTPClient]] = {
            "urllib3": lambda: Urllib3Client(timeout=TIMEOUT, api_base=api_base),
            # What StripeClient builds when given no http_client, with the shop's timeout.
            "requests": lambda: stripe.new_default_http_client(timeout=TIMEOUT),
        }
        built = {name: build(api_base, make()) for name, make in clients.items()}
        default_name = built["requests"]._requestor._client.name  # type: ignore[union-attr]
        assert default_name == "requests", f"stripe-python's default is now {default_name}"
        for client in built.values():
            cpu_ms_per_call(client, WARM_UP, -1)
        rounds: dict[str, list[float]] = {name: [] for name in built}
        for round_no in range(args.rounds):
            order = list(built) if round_no % 2 == 0 else list(reversed(built))
            for name in order:
                rounds[name].append(cpu_ms_per_call(built[name], args.calls, round_no))
        medians = {name: statistics.median(values) for name, values in rounds.items()}

    ratio = medians["urllib3"] / medians["requests"]
    # Both clients of a round ran under the same neighbours: its ratio holds when its times move.
    round_ratios = [a / b for a, b in zip(rounds["urllib3"], rounds["requests"], strict=True)]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "stripe": stripe.VERSION,
            "load_average_before": load_before,
            "git": commit,
        },
        "calls_per_round": args.calls,
        "environment_variables": len(os.environ),
        "cpu_ms_per_call": {name: [round(v, 4) for v in values] for name, values in rounds.items()},
        "median_cpu_ms_per_call": {name: round(v, 4) for name, v in medians.items()},
        "urllib3_over_requests": round(ratio, 3),
        "urllib3_over_requests_per_round": [round(r, 3) for r in round_ratios],
        "median_of_round_ratios": round(statistics.median(round_ratios), 3),
        "cpu_saved_percent": round((1 - ratio) * 100, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-stripe-client.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    for name, value in medians.items():
        print(f"{name:>9}: {value:.3f} ms CPU per checkout.sessions.create (median)")
    print(
        f"urllib3 / requests = {ratio:.3f} ({result['cpu_saved_percent']}% saved; "
        f"median of the rounds' ratios {result['median_of_round_ratios']}) → {path}"
    )


if __name__ == "__main__":
    main()
