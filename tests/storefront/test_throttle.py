"""Abuse limits: Buy and code guesses past their rates are a 429 with Retry-After, counted per
visitor and per address, in the cache every process shares (Redis when REDIS_URL is set)."""

from collections.abc import Iterator
from ipaddress import ip_network
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.throttle import client_address
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
    limits.SHOP_TRUSTED_PROXIES = [ip_network("127.0.0.1/32")]
    item = ItemFactory.create()

    def buy(forwarded: str) -> int:
        return Client().get(f"/buy/{item.pk}", headers={"X-Forwarded-For": forwarded}).status_code

    many = [buy(f"203.0.113.{n}") for n in range(8)]
    forged = [buy(f"198.51.100.{n}, 192.0.2.7") for n in range(6)]

    assert many == [200] * 8
    assert forged == [200] * 5 + [429]


def test_without_trusted_proxies_a_forwarded_address_is_never_believed(
    fake_stripe: FakeStripe, limits: SettingsWrapper
) -> None:
    """Saying the shop is behind an HTTPS proxy is about the scheme: it does not make
    X-Forwarded-For true, so a client cannot escape its count by naming a new address."""
    limits.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    limits.SHOP_TRUSTED_PROXIES = []
    item = ItemFactory.create()

    def buy(forwarded: str) -> int:
        return Client().get(f"/buy/{item.pk}", headers={"X-Forwarded-For": forwarded}).status_code

    assert [buy(f"203.0.113.{n}") for n in range(6)] == [200] * 5 + [429]


@pytest.mark.parametrize(
    ("remote", "forwarded", "seen"),
    [
        ("127.0.0.1", "", "127.0.0.1"),  # a trusted proxy that names nobody speaks for itself
        ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("127.0.0.1", "198.51.100.1, 203.0.113.5", "203.0.113.5"),  # the first is made up
        ("127.0.0.1", "203.0.113.5, 10.0.0.2", "203.0.113.5"),  # two proxies, hop by hop
        ("127.0.0.1", "198.51.100.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        ("127.0.0.1", "10.0.0.9, 10.0.0.2", "10.0.0.9"),  # every hop a proxy: the farthest
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.5, not-an-address", "127.0.0.1"),
        ("127.0.0.1", "2001:db8::7", "2001:db8::7"),
        ("203.0.113.9", "10.0.0.2", "203.0.113.9"),  # not a proxy: its own address
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
    ],
)
def test_the_client_address_is_read_back_through_trusted_proxies_only(
    settings: SettingsWrapper, remote: str, forwarded: str, seen: str
) -> None:
    settings.SHOP_TRUSTED_PROXIES = [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)
    assert client_address(request) == seen


def test_discount_code_guesses_from_new_visitors_at_one_address_are_refused(
    limits: SettingsWrapper,
) -> None:
    """A guesser who starts a new session every few tries is still one address."""
    limits.SHOP_THROTTLE_CODES_PER_ADDRESS = "4/h"
    DiscountFactory.create(code="REAL", percent_off=10)
    item = ItemFactory.create()
    answers = []
    for n in range(3):
        visitor = Client()
        order = cart(visitor, (item.pk, 1))
        url = f"/orders/{order.pk}/discount/"
        answers += [visitor.post(url, {"code": f"G{n}{m}"}, headers=JSON) for m in range(2)]

    assert [a.status_code for a in answers] == [400] * 4 + [429] * 2
    assert not Order.objects.filter(discount__isnull=False).exists()
    elsewhere = Client(REMOTE_ADDR="198.51.100.4")
    order = cart(elsewhere, (item.pk, 1))
    applied = elsewhere.post(f"/orders/{order.pk}/discount/", {"code": "REAL"}, headers=JSON)
    assert applied.status_code == 200


def test_searches_past_the_address_rate_are_refused(limits: SettingsWrapper) -> None:
    limits.SHOP_THROTTLE_SEARCH_PER_ADDRESS = "3/h"
    ItemFactory.create(name="Mug")
    searches = [Client().get("/", {"q": f"mug{n}"}) for n in range(4)]
    catalog = Client().get("/")  # browsing the catalog is not searching

    assert [s.status_code for s in searches] == [200, 200, 200, 429]
    assert "Too many attempts" in searches[-1].text
    assert int(searches[-1]["Retry-After"]) >= 1
    assert catalog.status_code == 200
    assert Client(REMOTE_ADDR="198.51.100.4").get("/", {"q": "mug"}).status_code == 200


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
