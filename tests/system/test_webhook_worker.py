"""The real worker process (`manage.py mail_worker`) delivering webhooks over PostgreSQL: a
worker killed mid-delivery loses nothing, and the next one delivers it with the same id."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from kassa.integrations.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from kassa.integrations.signing import new_secret
from tests.fake_stripe import FakeStripe
from tests.integrations.test_delivery import pay
from tests.mail import wait_for
from tests.notifications.test_mail import shop
from tests.postgres import server_url, with_database
from tests.webhook_receiver import Receiver, receiver

__all__ = ["receiver", "shop"]  # fixtures
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)
State = WebhookDelivery.State


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the worker process shares the database: checked in the PostgreSQL pass")


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_worker(started: list[subprocess.Popen[bytes]], logs: Path) -> subprocess.Popen[bytes]:
    database = with_database(server_url(), str(connection.settings_dict["NAME"]))
    process = subprocess.Popen(
        [sys.executable, "manage.py", "mail_worker", "--interval", "0.1", "--no-startup-delay"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": database,
            "WEBHOOKS_ALLOW_PRIVATE": "true",
            "WEBHOOKS_TIMEOUT_SECONDS": "2",
            "WEBHOOKS_DELIVERY_LEASE_SECONDS": "3",
        },
        stdout=(logs / f"worker-{len(started)}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    started.append(process)
    return process


def test_a_worker_killed_mid_delivery_leaves_it_to_the_next_with_the_same_id(
    shop: FakeStripe,
    receiver: Receiver,
    workers: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    endpoint = WebhookEndpoint.objects.create(
        url=receiver.url,
        events=["order.paid"],
        secret=new_secret(),
        secret_created_at=timezone.now(),
    )
    receiver.secret = endpoint.secret
    receiver.hold = threading.Event()  # the receiver has it, and has not answered yet
    order, _ = pay(shop)

    first = start_worker(workers, tmp_path)
    wait_for(receiver.receiving.is_set, seconds=60)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    receiver.hold.set()
    receiver.hold = None
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.SENDING  # nobody heard an answer
    assert not DeliveryAttempt.objects.exists()

    time.sleep(3.5)  # the killed worker's lease runs out
    start_worker(workers, tmp_path)
    try:
        wait_for(lambda: WebhookDelivery.objects.get().state == State.DELIVERED, seconds=60)
    except AssertionError:
        logs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("worker-*.log")))
        raise AssertionError(f"not delivered; the workers said:\n{logs[-4000:]}") from None

    first_try, second_try = receiver.received
    assert first_try.webhook_id == second_try.webhook_id == delivery.event.event_id
    assert second_try.verified
    assert second_try.payload["data"]["id"] == order.pk
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert DeliveryAttempt.objects.get().status == 200
