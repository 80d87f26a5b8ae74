"""Redis stopped, or hung (it accepts connections and never answers): customers are served,
unthrottled, as the settings promise; the admin's sign-in works; /healthz says Redis is down
but keeps the replica in service. A real redis-server of the test's own, stopped for real, and
a TCP server that answers nothing."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common import cache
from kassa.orders.models import Order
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.system.test_replicas import own_redis

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-password-for-tests"


def _shared_cache(settings: SettingsWrapper, url: str) -> None:
    settings.SHOP_THROTTLE = True
    settings.SHOP_THROTTLE_BUY_PER_VISITOR = "2/h"
    settings.SHOP_THROTTLE_BUY_PER_ADDRESS = "2/h"
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "kassa.common.cache.FailSoftRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        },
    }


class HungRedis:
    """Accepts connections, reads what it is sent, never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def hung_redis() -> Iterator[HungRedis]:
    server = HungRedis()
    yield server
    server.close()


def _buys(item_id: int, times: int) -> list[int]:
    """Buy clicks of new visitors from one address: each makes an order when served."""
    return [Client().get(f"/buy/{item_id}").status_code for _ in range(times)]


def _admin_signs_in(settings: SettingsWrapper) -> bool:
    settings.AXES_ENABLED = True
    User.objects.create_user("boss", password=PASSWORD, is_staff=True, is_superuser=True)
    client = Client()
    client.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD})
    return client.get("/admin/").status_code == 200


def test_with_redis_stopped_customers_are_served_unthrottled(
    fake_stripe: FakeStripe, settings: SettingsWrapper, tmp_path: Path, caplog: Any
) -> None:
    item = ItemFactory.create()
    with own_redis(tmp_path) as (url, server):
        _shared_cache(settings, url)
        assert _buys(item.pk, 3) == [200, 200, 429]  # counted while Redis runs
        server.terminate()
        server.wait()

        clicks = _buys(item.pk, 5)
        health = Client().get("/healthz")
        signed_in = _admin_signs_in(settings)

    assert clicks == [200] * 5
    assert Order.objects.count() == 2 + 5
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok", "redis": "unreachable"}
    assert signed_in
    assert "does not answer" in caplog.text


def test_with_redis_hung_each_process_waits_for_it_once(
    fake_stripe: FakeStripe,
    settings: SettingsWrapper,
    hung_redis: HungRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Redis that takes connections and never answers costs the first call its timeout; the
    process then leaves it alone (here for the whole test), so later clicks never wait on it."""
    monkeypatch.setattr(cache, "REDIS_RETRY_SECONDS", 3600.0)
    _shared_cache(settings, f"redis://127.0.0.1:{hung_redis.port}/0")
    item = ItemFactory.create()

    clicks = _buys(item.pk, 5)
    asked_during_clicks = hung_redis.accepted
    signed_in = _admin_signs_in(settings)
    health = Client().get("/healthz")

    assert clicks == [200] * 5
    assert asked_during_clicks == 1
    assert signed_in
    assert health.status_code == 200
    assert health.json()["redis"] == "unreachable"


def test_with_redis_up_health_says_so(settings: SettingsWrapper, tmp_path: Path) -> None:
    with own_redis(tmp_path) as (url, _server):
        _shared_cache(settings, url)
        health = Client().get("/healthz").json()
        caches["default"].close()
    assert health == {"status": "ok", "database": "ok", "redis": "ok"}


def test_a_read_that_timed_out_never_answers_a_later_one(
    settings: SettingsWrapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages' reads keep one connection (kassa.common.cache): a read Redis answers too late
    must not be taken for the next read's answer, and Redis back means reads work again."""
    monkeypatch.setattr(cache, "REDIS_RETRY_SECONDS", 0.0)
    with own_redis(tmp_path) as (url, _server):
        _shared_cache(settings, url)
        shared = caches["default"]
        shared.set_many({"a": "first", "b": "second"})
        assert shared.get_many(["a"]) == {"a": "first"}

        redis.Redis.from_url(url).client_pause(1500)  # Redis answers nobody for 1.5 s
        assert shared.get_many(["a"]) == {}  # given up after the 0.5 s timeout: a miss
        time.sleep(1.2)  # the pause is over; Redis has answered the read given up on
        assert shared.get_many(["b", "a"]) == {"b": "second", "a": "first"}
        assert shared.get_many(["b"]) == {"b": "second"}
