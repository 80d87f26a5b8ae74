"""Abuse limits: Buy and code guesses past their rates are a 429 with Retry-After, counted per
visitor and per address, in the cache every process shares (Redis when REDIS_URL is set)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common import throttle
from kassa.orders.models import Order
from tests.factories import DiscountFactory, ItemFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import JSON, cart
from tests.redis_dbs import THROTTLE_URL

pytestmark = pytest.mark.django_db
# A Redis database of the tests' own, emptied before and after.
REDIS_TEST_URL = THROTTLE_URL


@pytest.fixture
def limits(settings: SettingsWrapper) -> Iterator[SettingsWrapper]:
    settings.SHOP_THROTTLE = True
    # Per hour: the counts are fixed windows, and a test that crossed the end of one would see
    # its counts start again (a per-minute one did, in one run of the suite).
    settings.SHOP_THROTTLE_BUY_PER_VISITOR = "3/h"
    settings.SHOP_THROTTLE_BUY_PER_ADDRESS = "5/h"
    settings.SHOP_THROTTLE_CODES_PER_VISITOR = "2/h"
    caches["default"].clear()
    yield settings
    caches["default"].clear()


def _buys(client: Client, path: str, times: int) -> list[Any]:
    return [client.get(path) for _ in range(times)]


def test_buy_past_the_visitors_rate_is_a_429_with_retry_after(
    fake_stripe: FakeStripe, limits: SettingsWrapper
) -> None:
    item = ItemFactory.create()
    client = Client()
    cart(client, (item.pk, 1))  # a visitor with a session (and a cart)
    # Each click another item: a Buy of one item again answers its open session.
    answers = [client.get(f"/buy/{ItemFactory.create().pk}") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert set(refused.json()) == {"error", "code"}
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert Order.objects.count() == 1 + 3  # the cart, and the refused click wrote nothing
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 3


def test_many_visitors_from_one_address_share_its_looser_rate(
    fake_stripe: FakeStripe, limits: SettingsWrapper
) -> None:
    item = ItemFactory.create()
    statuses = [Client().get(f"/buy/{item.pk}").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(
    fake_stripe: FakeStripe, limits: SettingsWrapper
) -> None:
    """A flash sale's buyers all reach the app from the proxy's address: the proxy's
    X-Forwarded-For tells them apart, and what a client writes before it counts for nothing."""
    limits.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    item = ItemFactory.create()

    def buy(forwarded: str) -> int:
        return Client().get(f"/buy/{item.pk}", headers={"X-Forwarded-For": forwarded}).status_code

    many = [buy(f"203.0.113.{n}") for n in range(8)]
    forged = [buy(f"198.51.100.{n}, 192.0.2.7") for n in range(6)]

    assert many == [200] * 8
    assert forged == [200] * 5 + [429]


def test_discount_code_guesses_past_the_rate_are_refused(limits: SettingsWrapper) -> None:
    DiscountFactory.create(code="REAL", percent_off=10)
    client = Client()
    order = cart(client, (ItemFactory.create().pk, 1))
    url = f"/orders/{order.pk}/discount/"

    guesses = [client.post(url, {"code": f"GUESS{n}"}, headers=JSON) for n in range(2)]
    refused = client.post(url, {"code": "REAL"}, headers=JSON)
    page = client.post(url, {"code": "REAL"})  # the same from the page's form

    assert [g.status_code for g in guesses] == [400, 400]
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert page.status_code == 302
    assert "Too many attempts" in client.get(page["Location"]).text
    order.refresh_from_db()
    assert order.discount is None


def test_throttle_off_lets_a_load_test_through(
    fake_stripe: FakeStripe, limits: SettingsWrapper
) -> None:
    limits.SHOP_THROTTLE = False
    item = ItemFactory.create()
    assert {Client().get(f"/buy/{item.pk}").status_code for _ in range(8)} == {200}


def test_counts_in_redis_are_shared_by_every_process(
    fake_stripe: FakeStripe, limits: SettingsWrapper
) -> None:
    """Two cache connections stand for two processes (or replicas) of the shop."""
    limits.CACHES = {
        **limits.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
        },
    }
    other_process = RedisCache(REDIS_TEST_URL, {})
    caches["default"].clear()
    item = ItemFactory.create()
    try:
        first = [Client().get(f"/buy/{item.pk}").status_code for _ in range(3)]
        assert any(key for key in other_process._cache.get_client().keys("*"))
        caches["default"].close()
        # "Another process": a fresh connection, the same counts.
        second = [Client().get(f"/buy/{item.pk}").status_code for _ in range(3)]
    finally:
        other_process.clear()
    assert first == [200, 200, 200]
    assert second == [200, 200, 429]


def test_the_api_counts_payment_starts_with_the_pages(
    fake_stripe: FakeStripe, limits: SettingsWrapper
) -> None:
    """The API's Buy is the same Stripe object as the page's: one count for both."""
    item = ItemFactory.create()
    client = Client()
    cart(client, (item.pk, 1))
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    page = [client.get(f"/buy/{item.pk}").status_code for _ in range(2)]
    api = [
        client.post(f"/api/v1/items/{item.pk}/buy", headers={"X-CSRFToken": token})
        for _ in range(2)
    ]

    assert page == [200, 200]
    assert api[0].status_code == 200
    assert api[1].status_code == 429
    assert api[1].json()["code"] == "too_many_requests"
    assert "Retry-After" in api[1]


def test_while_redis_is_gone_nobody_is_limited_and_buying_goes_on(
    fake_stripe: FakeStripe,
    settings: SettingsWrapper,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.SHOP_THROTTLE = True
    settings.SHOP_THROTTLE_BUY_PER_ADDRESS = "2/h"
    # Nothing listens on port 1: every count fails as with a Redis that died.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": RedisCache.__module__ + ".RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    monkeypatch.setattr(throttle, "_warned_at", float("-inf"), raising=False)
    monkeypatch.setattr(throttle, "_redis_down_until", float("-inf"), raising=False)
    asked: list[str] = []
    real_get_usage = throttle.get_usage

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["group"])
        return real_get_usage(*args, **kwargs)

    monkeypatch.setattr(throttle, "get_usage", counted)

    answers = [Client().get(f"/buy/{ItemFactory.create().pk}") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    # Asked once: after a failure Redis is left alone for a while, not asked on every click.
    assert len(asked) == 1
    warnings = [r for r in caplog.records if "the abuse limits are off" in r.getMessage()]
    assert len(warnings) == 1
