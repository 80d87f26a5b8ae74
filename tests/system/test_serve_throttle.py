"""The abuse limits as `make run` serves the shop: scripts/serve.sh starting config/gunicorn.py
with its default four worker processes, no REDIS_URL, a SQLite database. A limit is one count
for all the workers together, not one per worker (which let four times the rate through)."""

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.fake_stripe import FakeStripe
from tests.gunicorn_server import database, free_port, manage
from tests.production_env import ROOT, command_env

pytestmark = pytest.mark.db_independent

WORKERS = 4  # config/gunicorn.py's default, which `make run` keeps
PER_ADDRESS = 10
CLICKS = 60


@dataclass
class Served:
    base: str
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def served(tmp_path: Path, fake: FakeStripe) -> Iterator[tuple[Served, int]]:
    url = database(tmp_path)
    item = int(
        manage(
            url,
            "shell",
            "--no-imports",
            "-c",
            "from kassa.catalog.models import Item; "
            "print(Item.objects.create(name='Kettle', price='10.00', currency='usd',"
            " requires_shipping=False).pk)",
        ).strip()
    )
    port = free_port()
    env = command_env(
        DATABASE_URL=url,
        PORT=str(port),
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_HTTPS="false",
        DJANGO_BEHIND_HTTPS_PROXY="false",
        REDIS_URL=None,
        WEB_CONCURRENCY=None,
        GUNICORN_BIND=None,
        # Fewer threads than the default 16, so a burst of clicks is spread over every worker
        # (each takes only as many connections as it has threads) rather than taken by one.
        GUNICORN_THREADS="3",
        STRIPE_API_KEY="sk_test_serve",
        STRIPE_PUBLISHABLE_KEY="pk_test_serve",
        STRIPE_API_BASE=fake.url,
        SHOP_THROTTLE="true",
        SHOP_THROTTLE_BUY_PER_ADDRESS=f"{PER_ADDRESS}/h",
        EMAIL_URL="consolemail://",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Served(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 120
        while server.logs().count("Booting worker") < WORKERS or not _healthy(server):
            assert process.poll() is None, server.logs()
            assert time.monotonic() < deadline, server.logs()
            time.sleep(0.3)
        yield server, item
    finally:
        process.send_signal(signal.SIGTERM)  # serve.sh stops gunicorn and the mail worker
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _healthy(server: Served) -> bool:
    try:
        return requests.get(f"{server.base}/healthz", timeout=2).ok
    except requests.RequestException:
        return False


def test_a_limit_holds_across_the_workers_make_run_starts(
    served: tuple[Served, int], fake: FakeStripe
) -> None:
    server, item = served

    def click(_: int) -> int:
        # A new visitor each time (no cookie), all from 127.0.0.1: the address's limit counts.
        return requests.get(f"{server.base}/buy/{item}", timeout=60).status_code

    with ThreadPoolExecutor(max_workers=3 * WORKERS) as pool:
        statuses = list(pool.map(click, range(CLICKS)))

    assert server.logs().count("Booting worker") == WORKERS
    # Exactly the limit's clicks went past it, whichever worker took each. One of those may
    # still be answered "busy, try again" (503) when its worker's Stripe threads are all taken.
    assert statuses.count(429) == CLICKS - PER_ADDRESS, Counter(statuses)
    assert set(statuses) <= {200, 429, 503}, Counter(statuses)
    assert statuses.count(200) >= 1
    assert len(fake.requests_to("POST", "/v1/checkout/sessions")) == statuses.count(200)
