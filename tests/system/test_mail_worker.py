"""The real worker process (`manage.py mail_worker`) over PostgreSQL: concurrent deliveries of a
payment make one mail each, and a worker killed mid-send neither loses nor repeats one."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from kassa.notifications.models import Mail
from kassa.orders.models import Order
from kassa.payments.models import UnmatchedPayment
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, smtp, wait_for
from tests.notifications.test_mail import checkout, confirmations, shop, staff_notices
from tests.postgres import server_url, with_database
from tests.stripe_events import encode, event, signature

__all__ = ["shop", "smtp"]  # fixtures
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the worker process shares the database: checked in the PostgreSQL pass")


class Workers:
    """`manage.py mail_worker` processes on the test database, stopped at the end."""

    def __init__(self, server: SMTPServer, logs: Path) -> None:
        self.server, self.logs = server, logs
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, **env: str) -> subprocess.Popen[bytes]:
        database = with_database(server_url(), str(connection.settings_dict["NAME"]))
        process = subprocess.Popen(
            [sys.executable, "manage.py", "mail_worker", "--interval", "0.1", "--no-startup-delay"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.settings_test",
                "DATABASE_URL": database,
                "EMAIL_URL": self.server.url,
                "SHOP_STAFF_EMAILS": "staff@kassa.example",
                "MAIL_RETRY_BASE_SECONDS": "0.2",
                **env,
            },
            stdout=(self.logs / f"worker-{len(self.started)}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.started.append(process)
        return process

    def wait_until_sent(self, count: int) -> None:
        """Until `count` mails are sent; on a timeout, with what the workers logged."""
        try:
            wait_for(
                lambda: Mail.objects.filter(state=Mail.State.SENT).count() == count, seconds=60
            )
        except AssertionError:
            logs = "\n".join(path.read_text() for path in sorted(self.logs.glob("worker-*.log")))
            raise AssertionError(f"mail not sent; the workers said:\n{logs[-4000:]}") from None

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def workers(smtp: SMTPServer, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(smtp, tmp_path)
    yield running
    running.stop_all()


def test_six_concurrent_deliveries_make_one_confirmation_and_one_staff_notice(
    shop: FakeStripe, smtp: SMTPServer, workers: Workers
) -> None:
    _, order, session = checkout(shop)
    # Three deliveries of one event and three of Stripe's retries (new event ids), at once.
    same = encode(event("checkout.session.completed", session))
    payloads = [same] * 3 + [encode(event("checkout.session.completed", session)) for _ in "123"]
    start = threading.Barrier(len(payloads))
    statuses: list[int] = []

    def deliver(payload: bytes) -> None:
        try:
            start.wait()
            response = Client().post(
                "/stripe/webhook/",
                payload,
                content_type="application/json",
                headers={"Stripe-Signature": signature(payload)},
            )
            statuses.append(response.status_code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=deliver, args=(payload,)) for payload in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6

    workers.start()
    workers.start()  # two workers, as two replicas run them
    workers.wait_until_sent(2)
    time.sleep(1)  # anything sent twice would have arrived by now
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert len(confirmations(smtp)) == 1
    assert len(staff_notices(smtp)) == 1
    # One payment reported six ways is not a payment twice (no notice, nothing unmatched).
    assert not UnmatchedPayment.objects.exists()
    assert Mail.objects.count() == 2


def test_a_worker_killed_mid_send_loses_nothing_and_the_next_sends_it_once(
    shop: FakeStripe, smtp: SMTPServer, workers: Workers, settings: object
) -> None:
    smtp.inbox.hold = threading.Event()
    _, order, session = checkout(shop)
    payload = encode(event("checkout.session.completed", session))
    Client().post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload)},
    )
    first = workers.start(MAIL_SEND_LEASE_SECONDS="2")
    wait_for(smtp.inbox.receiving.is_set, seconds=60)  # the message is on the wire
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    smtp.inbox.hold.set()  # the server never said "accepted": the client vanished first
    assert Mail.objects.filter(state=Mail.State.SENDING).count() == 1
    assert smtp.inbox.messages == []

    time.sleep(2.5)  # the killed worker's lease runs out
    workers.start()
    workers.wait_until_sent(2)
    time.sleep(1)
    assert len(confirmations(smtp)) == 1
    assert len(staff_notices(smtp)) == 1
    assert Mail.objects.get(kind=Mail.Kind.CONFIRMATION, order=order).attempts >= 1
