"""Several replicas for real: gunicorn instances on their own ports over one PostgreSQL database
and one Redis (a redis-server of the test's own, so it can be stopped), against a fake Stripe
that enforces Stripe's test-mode limit with 429s.

- Buy clicks spread over three replicas, webhooks to one, success pages to another: every order
  is paid exactly once, Stripe never sees more than the shop's pace in any second, and no
  customer gets an error; then Redis stops in the middle of the load and checkout goes on.
- A Stripe answering after 10 s: 64 Buy clicks at once do not take the threads the item page
  needs (the bulkhead), and the clicks that wait get their session or a clear 503.
"""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from tests.fake_stripe import FakeStripe
from tests.postgres import server_url, throwaway_database
from tests.production_env import ROOT, VENV_BIN, command_env
from tests.stripe_events import WEBHOOK_SECRET, encode, event, signature

pytestmark = [pytest.mark.postgres, pytest.mark.db_independent]

HOST = "shop.example.com"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}  # as the TLS proxy forwards requests
PACE = 20  # the default for test keys
STRIPE_TEST_LIMIT = 25  # Stripe's own, in test mode
SESSIONS = ("POST", "/v1/checkout/sessions")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Replica:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, *, timeout: float = 30, **kwargs: object) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers=HTTPS, timeout=timeout, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[str, int]]:
    """A migrated throwaway database with one item: its URL and the item's id."""
    # Named after the suite's database and this run: another run's must not be dropped.
    name = f"{urlsplit(server_url()).path.strip('/') or 'test'}_replicas_{os.getpid()}"
    with throwaway_database(name) as url:
        env = command_env(DATABASE_URL=url)
        manage = [str(VENV_BIN / "python"), "manage.py"]
        # Pages name their static files through the manifest, as in production.
        subprocess.run(
            [*manage, "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        subprocess.run(
            [*manage, "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        created = subprocess.run(
            [
                *manage,
                "shell",
                "--no-imports",
                "-c",
                "from kassa.catalog.models import Item; "
                "print(Item.objects.create(name='Kettle', price='10.00', currency='usd',"
                " requires_shipping=False).pk)",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        yield url, int(created.stdout.strip())


@contextlib.contextmanager
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own (never the shared one), without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        # As for PostgreSQL (tests/postgres.py): a CI machine cannot pass by skipping.
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.kill()
        process.wait()


@contextlib.contextmanager
def replicas(count: int, tmp_path: Path, **settings: str) -> Iterator[list[Replica]]:
    """`count` gunicorn instances, each as production starts it, with `settings`."""
    started = []
    try:
        for n in range(count):
            port = _free_port()
            log = tmp_path / f"replica-{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [str(VENV_BIN / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.py"],
                    cwd=ROOT,
                    env=command_env(
                        GUNICORN_BIND=f"127.0.0.1:{port}",
                        STRIPE_API_KEY="sk_test_replicas",
                        STRIPE_PUBLISHABLE_KEY="pk_test_replicas",
                        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
                        SHOP_THROTTLE="false",
                        # A connection only while a request runs: several replicas' threads
                        # must not hold more than the server's 100 connections between them.
                        DATABASE_CONN_MAX_AGE="0",
                        **settings,
                    ),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(Replica(f"http://127.0.0.1:{port}", process, log))
        for replica in started:
            _wait_until_healthy(replica)
        yield started
    finally:
        for replica in started:
            replica.process.send_signal(signal.SIGTERM)
        for replica in started:
            try:
                replica.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()


def _wait_until_healthy(replica: Replica) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{replica.log.read_text()}")
        # Listening, but a worker still loading the app on a busy machine: not healthy yet.
        with contextlib.suppress(requests.ConnectionError, requests.Timeout):
            if requests.get(f"{replica.base}/healthz", headers={"Host": HOST}, timeout=2).ok:
                return
        time.sleep(0.2)
    pytest.fail(f"/healthz never answered:\n{replica.log.read_text()}")


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    """A fake Stripe of the test's own: the suite's may still be answering an earlier test."""
    server = FakeStripe().start()
    yield server
    server.stop()


@dataclass
class Click:
    status: int
    body: dict[str, object]
    seconds: float
    retry_after: str | None
    busy: int = 0  # answers "busy, try again after Retry-After" followed before this one
    finished: float = 0.0  # time.monotonic() when the answer came


# As the item page's Buy button (static/kassa/checkout.js): a 503 with Retry-After means nothing
# was started and the shop asks the customer to wait in line, so the button asks again.
BUSY_TRIES = 8


def _buy(replica: Replica, item: int, *, follow_busy: bool = True) -> Click:
    began = time.monotonic()
    busy = 0
    while True:
        # A new visitor each time (no cookies kept): their own session and order.
        response = replica.get(f"/buy/{item}", timeout=60)
        retry_after = response.headers.get("Retry-After")
        if not (follow_busy and response.status_code == 503 and retry_after) or busy >= BUSY_TRIES:
            break
        busy += 1
        time.sleep(min(int(retry_after), 10))
    json_answer = response.headers.get("Content-Type") == "application/json"
    return Click(
        response.status_code,
        response.json() if json_answer else {},
        time.monotonic() - began,
        retry_after,
        busy,
        time.monotonic(),
    )


def _clicks(
    replicas_: list[Replica], item: int, count: int, clients: int, *, follow_busy: bool = True
) -> list[Click]:
    """`count` Buy clicks from `clients` customers at a time, spread over the replicas."""
    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(
            pool.map(
                lambda n: _buy(replicas_[n % len(replicas_)], item, follow_busy=follow_busy),
                range(count),
            )
        )


def _pay(fake: FakeStripe, webhooks: Replica, success: Replica, session_id: str) -> None:
    """The customer pays: Stripe's webhook reaches one replica while they land on another's
    success page, at once."""
    session = fake.resources.complete_checkout_session(session_id)
    payload = encode(event("checkout.session.completed", dict(session)))

    def webhook() -> int:
        return requests.post(
            f"{webhooks.base}/stripe/webhook/",
            data=payload,
            headers={
                **HTTPS,
                "Stripe-Signature": signature(payload),
                "Content-Type": "application/json",
            },
            timeout=30,
        ).status_code

    def page() -> int:
        return success.get(f"/checkout/success/?session_id={session_id}").status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = [pool.submit(webhook), pool.submit(page)]
        assert [answer.result() for answer in answers] == [200, 200]


def _orders(database_url: str) -> dict[int, tuple[str, int, int]]:
    """Each order: its status, how often it became paid, and its unmatched payments."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """
            SELECT o.id, o.status,
              (SELECT count(*) FROM orders_orderstatuschange c
                 WHERE c.order_id = o.id AND c.to_status = 'paid'),
              (SELECT count(*) FROM payments_unmatchedpayment u
                 JOIN payments_paymentattempt a ON u.attempt_id = a.id WHERE a.order_id = o.id)
            FROM orders_order o
            """
        ).fetchall()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _in_background(work: Callable[[], list[Click]]) -> tuple[threading.Thread, list[Click]]:
    out: list[Click] = []
    thread = threading.Thread(target=lambda: out.extend(work()))
    thread.start()
    return thread, out


def test_three_replicas_share_one_pace_and_pay_every_order_once(
    database: tuple[str, int], fake: FakeStripe, tmp_path: Path
) -> None:
    database_url, item = database
    fake.set_rate_limit(STRIPE_TEST_LIMIT)
    with (
        own_redis(tmp_path) as (redis_url, redis_server),
        replicas(
            3,
            tmp_path,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            STRIPE_API_BASE=fake.url,
            WEB_CONCURRENCY="2",
            GUNICORN_THREADS="8",
        ) as shop,
    ):
        # 1. A sale: 90 customers, 24 at a time, on all three replicas.
        first = _clicks(shop, item, count=90, clients=24)
        paced = fake.requests

        # 2. More customers, and Redis stops while they click.
        thread, second = _in_background(lambda: _clicks(shop, item, count=60, clients=16))
        time.sleep(1.0)
        redis_server.terminate()
        redis_server.wait()
        thread.join()

        # 3. Every customer pays: webhooks to the first replica, success pages on the second.
        clicks = first + second
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda click: _pay(fake, shop[0], shop[1], str(click.body["id"])),
                    [click for click in clicks if click.status == 200],
                )
            )
        logs = [replica.log.read_text() for replica in shop]

    assert [click.status for click in clicks if click.status != 200] == [], [
        (click.status, click.body) for click in clicks if click.status != 200
    ]
    # Each customer waited for their turn (the pace, a thread, both) within the wait bound the
    # shop keeps itself: a turn further off is answered "busy, try again", which the button
    # follows as a customer would, and every click above ended with its session.
    # While Redis was there: the pace held across the three replicas and six processes. A send
    # can leave a little after its turn (a busy machine wakes a thread late), so one second can
    # hold a few more than the pace; Stripe's limit has the headroom for it, and never answered
    # 429.
    assert [r for r in paced if r.rate_limited] == []
    times = sorted(r.at for r in paced)
    most = max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))
    assert most <= STRIPE_TEST_LIMIT
    assert (len(times) - 1) / (times[-1] - times[0]) <= PACE * 1.05
    # One session per click, each paid once, nothing unmatched, no order left behind.
    session_ids = [click.body["id"] for click in clicks]
    assert len(set(session_ids)) == 150 == len(fake.resources.checkout_sessions)
    orders = _orders(database_url)
    assert sorted(orders) == sorted(int(str(click.body["order_id"])) for click in clicks)
    assert set(orders.values()) == {("paid", 1, 0)}
    # Redis going away was noticed, once per process that called Stripe after it.
    noticed = sum(log.count("Redis does not answer") for log in logs)
    assert 1 <= noticed <= 3 * 2


def test_a_slow_stripe_leaves_threads_for_the_pages(
    database: tuple[str, int], fake: FakeStripe, tmp_path: Path
) -> None:
    """The audit's case: Stripe answering after 10 s, 64 Buy clicks at once, on processes of
    production's 16 threads. Two of them rather than four: each click waiting on Stripe holds a
    database connection, and 48 of them beside the other tests' could pass PostgreSQL's 100."""
    database_url, item = database
    fake.set_latency(10.0)
    before = set(_orders(database_url))
    with replicas(
        1,
        tmp_path,
        DATABASE_URL=database_url,
        STRIPE_API_BASE=fake.url,
        REDIS_URL="",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="16",
    ) as [shop]:
        shop.get(f"/item/{item}/")  # rendered once per process before the rush: a warm shop
        thread, clicks = _in_background(
            lambda: _clicks([shop], item, count=64, clients=64, follow_busy=False)
        )
        time.sleep(1.5)  # every click is in: waiting on Stripe, or answered busy
        pages = []
        for _ in range(5):
            response = shop.get(f"/item/{item}/", timeout=5)
            pages.append((response.status_code, time.monotonic()))
            time.sleep(0.5)
        thread.join()

    assert [status for status, _ in pages] == [200] * 5
    # No page waited on Stripe's threads: every one was answered before the first click that
    # waited on Stripe (10 s) had its answer.
    served_at = min(click.finished for click in clicks if click.status == 200)
    assert max(at for _, at in pages) < served_at, (pages, served_at)
    statuses = sorted({click.status for click in clicks})
    assert set(statuses) <= {200, 503}
    served = [click for click in clicks if click.status == 200]
    busy = [click for click in clicks if click.status == 503]
    # The bulkhead: at most 12 of each process's 16 threads waiting on Stripe at once (a click
    # still queued when the first ones were answered may take a freed place afterwards).
    arrivals = sorted(r.at for r in fake.requests_to(*SESSIONS))
    waiting = max(sum(1 for a in arrivals if t - 10.0 < a <= t) for t in arrivals)
    assert waiting <= 2 * 12
    assert busy, "the bulkhead refused nobody"
    for click in busy:
        assert click.retry_after == "1"
        # Refused at once: before any click that waited on Stripe had its answer.
        assert click.finished < served_at
        assert set(click.body) == {"error", "code"}
    # A refused click leaves nothing behind; a served one its pending order.
    created = set(_orders(database_url)) - before
    assert len(created) == len(served)
    assert len(fake.requests_to(*SESSIONS)) == len(served)
    assert json.dumps([click.body for click in busy])  # JSON all the way
