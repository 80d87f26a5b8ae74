"""/metrics under gunicorn: every worker's counts summed (prometheus-client's multiprocess mode,
set up by config/gunicorn.py), over real HTTP; and LOG_FORMAT=json lines carrying request ids."""

import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fake_stripe import FakeStripe
from tests.gunicorn_server import Server, database, gunicorn, manage
from tests.prometheus import Samples, parse, total, value

pytestmark = pytest.mark.db_independent

TOKEN = "metrics-token-for-the-gunicorn-test"
BUYERS = 12  # more than any one worker takes at once (2 threads, 2 connections)


@pytest.fixture
def slow_stripe(fake_stripe_server: FakeStripe) -> Iterator[FakeStripe]:
    fake_stripe_server.reset()
    # Each Buy click holds its thread this long, so a burst must spread over the workers.
    fake_stripe_server.set_latency(1.0)
    yield fake_stripe_server
    fake_stripe_server.reset()


def scrape(server: Server) -> Samples:
    response = requests.get(
        f"{server.base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return parse(response.text)


def json_lines(server: Server) -> list[dict[str, Any]]:
    lines = [line for line in server.logs().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line parses, or this fails


def test_every_workers_counts_add_up_at_metrics(tmp_path: Path, slow_stripe: FakeStripe) -> None:
    url = database(tmp_path)
    item_id = manage(
        url,
        "shell",
        "-c",
        "from kassa.catalog.models import Item; "
        "print(Item.objects.create(name='Mug', price='9.50', currency='usd',"
        " requires_shipping=False).pk)",
    ).splitlines()[-1]
    metrics_folder = tmp_path / "metrics"
    metrics_folder.mkdir()
    # A previous run's file, unreadable as values: the start must clear it.
    (metrics_folder / "counter_1.db").write_bytes(b"left over from the last run")

    with gunicorn(
        tmp_path,
        DATABASE_URL=url,
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="2",
        # Both threads may wait on the slow Stripe: this counts workers, not the bulkhead.
        STRIPE_CONCURRENCY="2",
        STRIPE_API_KEY="sk_test_gunicorn_metrics",
        STRIPE_API_BASE=slow_stripe.url,
        SHOP_THROTTLE="false",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_folder),
        LOG_FORMAT="json",
    ) as server:
        assert not (metrics_folder / "counter_1.db").exists()

        def buy(n: int) -> requests.Response:
            return requests.get(
                f"{server.base}/buy/{item_id}",
                headers={"X-Request-ID": f"buyer-{n}"},
                timeout=60,
            )

        with ThreadPoolExecutor(BUYERS) as pool:
            answers = list(pool.map(buy, range(BUYERS)))
        assert [answer.status_code for answer in answers] == [200] * BUYERS, answers[0].text

        lines = json_lines(server)
        buy_lines = [
            line
            for line in lines
            if line["logger"] == "gunicorn.access" and line["path"] == f"/buy/{item_id}"
        ]
        assert sorted(line["request_id"] for line in buy_lines) == sorted(
            f"buyer-{n}" for n in range(BUYERS)
        )
        workers = {line["pid"] for line in buy_lines}
        assert len(workers) >= 2, "the burst was answered by one worker only"

        started = {"currency": "usd", "kind": "checkout_session"}
        buy_view = {"view": "payments:buy", "method": "GET", "status": "200"}
        # Whichever worker answers the scrape, it reads every worker's counts.
        for _ in range(6):
            samples = scrape(server)
            assert value(samples, "kassa_checkouts_started_total", **started) == BUYERS
            assert value(samples, "kassa_http_requests_total", **buy_view) == BUYERS
            assert (
                value(
                    samples,
                    "kassa_stripe_calls_total",
                    endpoint="checkout.Session.create",
                    outcome="ok",
                )
                == BUYERS
            )
        histogram = total(
            samples, "kassa_stripe_call_duration_seconds_bucket", le="1.0"
        )  # at 1 s of latency, every call took longer than that
        assert histogram == 0
        assert {f.split("_")[-1] for f in os.listdir(metrics_folder)} >= {
            f"{pid}.db" for pid in workers
        }

        # A worker that goes (gunicorn starts another): what it counted stays in the sum.
        os.kill(next(iter(workers)), signal.SIGTERM)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Booting worker" not in _after_exit(server):
            time.sleep(0.2)
        samples = scrape(server)
        assert value(samples, "kassa_checkouts_started_total", **started) == BUYERS

    # The app's own lines carry the request id of the request they belong to.
    app_lines = [line for line in lines if line["logger"].startswith("kassa.")]
    created = [line for line in app_lines if "checkout.Session.create ok" in line["message"]]
    assert sorted(line["request_id"] for line in created) == sorted(
        f"buyer-{n}" for n in range(BUYERS)
    )
    assert all(line["level"] in ("INFO", "WARNING", "ERROR", "DEBUG") for line in lines)
    assert any(line["logger"] == "gunicorn.error" for line in lines)


def _after_exit(server: Server) -> str:
    logs = server.logs()
    return logs[logs.rfind("Worker exiting") :] if "Worker exiting" in logs else ""
