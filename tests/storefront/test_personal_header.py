"""The header's cart on the shared pages, for a visitor with a cart and a signed-in customer: from
a signed cookie and one read of the shared cache (Redis here, as in production), no database; and
never stale after the cart changed in another tab, on another device or through the API."""

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Collection, CollectionProduct, Item
from kassa.orders.models import Order
from kassa.payments.abandoned import remove_abandoned_orders
from kassa.storefront.personal import COOKIE, MAX_AGE
from tests.customers.shop import sign_in
from tests.factories import ItemFactory, product_with_variants
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, smtp  # noqa: F401 - a fixture
from tests.payments.test_order_checkout import cancel_link
from tests.redis_dbs import REPLICAS_URL

# New versions are written once a change commits: the tests' writes commit.
pytestmark = pytest.mark.django_db(transaction=True)
COUNT = re.compile(r'<span class="badge" id="cart-count" aria-label="[^"]*">(\d+)</span>')


@pytest.fixture(autouse=True)
def redis_cache(settings: SettingsWrapper) -> Iterator[None]:
    """The shared cache in Redis, emptied before and after."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "kassa.common.cache.FailSoftRedisCache", "LOCATION": REPLICAS_URL},
    }
    caches["default"].clear()
    yield
    caches["default"].clear()


def shown(client: Client, path: str = "/") -> int:
    page = client.get(path)
    assert page.status_code == 200, page.content[:300]
    found = COUNT.search(page.text)
    assert found, page.text[:2000]
    return int(found.group(1))


def add(client: Client, item: Item, quantity: int = 1) -> None:
    answer = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": quantity})
    assert answer.status_code == 302, answer.content


def queries_of(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def collection_path() -> str:
    collection = Collection.objects.create(name="Wear", handle="wear")
    product, _ = product_with_variants("Tee", options={"Size": ["S", "M"]})
    CollectionProduct.objects.create(collection=collection, product=product, position=1)
    return f"/collections/{collection.handle}/"


def test_a_visitor_with_a_cart_gets_the_shared_pages_without_the_database(
    settings: SettingsWrapper,
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60  # the revision read once a minute, as in production
    item = ItemFactory.create(price=Decimal("5.00"))
    pages = ["/", f"/item/{item.pk}/", collection_path()]
    visitor = Client()
    add(visitor, item, 3)
    assert shown(visitor) == 3  # the cart read once, into the cookie (and the message shown)
    assert COOKIE in visitor.cookies
    for path in pages:
        assert shown(visitor, path) == 3  # the shared copy made
        assert queries_of(visitor, path) == 0, path
        assert shown(visitor, path) == 3


def test_another_tab_and_the_api_change_the_count_the_next_page_shows() -> None:
    mug, towel = ItemFactory.create(), ItemFactory.create()
    browser = Client()
    add(browser, mug)
    assert shown(browser) == 1
    # The other tab is the same browser: its POST sets no new cookie on the first tab's pages.
    kept = browser.cookies[COOKIE].value
    add(browser, towel, 2)
    browser.cookies[COOKIE] = kept
    assert shown(browser) == 3
    answer = browser.patch(
        f"/api/v1/cart/lines/{towel.pk}", {"quantity": 5}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert shown(browser, f"/item/{mug.pk}/") == 6
    assert browser.delete(f"/api/v1/cart/lines/{towel.pk}").status_code == 200
    assert shown(browser) == 1


def test_two_devices_of_one_account_see_each_others_changes(
    smtp: SMTPServer,  # noqa: F811
    settings: SettingsWrapper,
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    item = ItemFactory.create()
    phone, laptop = Client(), Client()
    sign_in(phone, smtp, "ann@example.com")
    sign_in(laptop, smtp, "ann@example.com", count=2)
    assert shown(phone) == 0
    assert shown(laptop) == 0
    add(phone, item, 2)
    assert shown(laptop) == 2
    assert shown(laptop, f"/item/{item.pk}/") == 2
    assert queries_of(laptop, f"/item/{item.pk}/") == 0  # signed in, no database either
    cart = Order.objects.get(status=Order.Status.OPEN)
    line = cart.lines.get()
    laptop.post(f"/orders/{cart.pk}/lines/{line.pk}/", {"quantity": 0})
    assert shown(phone) == 0


def test_signing_in_merges_the_carts_and_signing_out_forgets_them(smtp: SMTPServer) -> None:  # noqa: F811
    item = ItemFactory.create()
    phone, laptop = Client(), Client()
    sign_in(phone, smtp, "bo@example.com")
    add(phone, item, 2)
    add(laptop, item, 1)
    assert shown(laptop) == 1
    sign_in(laptop, smtp, "bo@example.com", count=2)
    assert shown(laptop) == 3
    assert shown(phone) == 3  # the account's cart took the laptop's in
    assert laptop.post("/account/logout/").status_code == 302
    assert shown(laptop) == 0
    assert shown(phone) == 3


def test_a_checkout_empties_the_header_and_cancelling_it_gives_the_cart_back(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    add(client, item, 2)
    assert shown(client) == 2
    cart = Order.objects.get(status=Order.Status.OPEN)
    session = client.get(f"/orders/{cart.pk}/buy/").json()["id"]
    assert shown(client) == 0
    client.get(cancel_link(fake_stripe, session))
    assert shown(client) == 2


def test_an_abandoned_cart_removed_leaves_the_header() -> None:
    visitor = Client()
    add(visitor, ItemFactory.create())
    assert shown(visitor) == 1
    long_ago = timezone.now() - timedelta(days=400)
    Order.objects.update(created_at=long_ago, updated_at=long_ago)
    assert remove_abandoned_orders(cutoff=timezone.now() - timedelta(days=1)).orders == 1
    assert shown(visitor) == 0


def test_a_forged_or_foreign_cookie_is_not_believed() -> None:
    item = ItemFactory.create()
    alice, mallory = Client(), Client()
    add(alice, item, 4)
    assert shown(alice) == 4
    add(mallory, item, 1)
    assert shown(mallory) == 1
    # Alice's cookie in Mallory's browser belongs to another session: read afresh.
    mallory.cookies[COOKIE] = alice.cookies[COOKIE].value
    assert shown(mallory) == 1
    mallory.cookies[COOKIE] = alice.cookies[COOKIE].value[:-2] + "xx"
    assert shown(mallory) == 1


def test_a_cookie_is_believed_for_at_most_max_age(
    settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60  # the revision read once a minute, as in production
    visitor = Client()
    add(visitor, ItemFactory.create(), 2)
    assert shown(visitor) == 2  # the cart read once, into the cookie (and the message shown)
    assert shown(visitor) == 2  # the shared copy made
    assert queries_of(visitor, "/") == 0
    written = time.time()
    # (Each process keeps the cookies it checked for a while: that must not stretch their age.)
    monkeypatch.setattr(time, "time", lambda: written + MAX_AGE - 70)
    assert COOKIE not in visitor.get("/").cookies  # still believed
    monkeypatch.setattr(time, "time", lambda: written + MAX_AGE + 1)
    assert COOKIE in visitor.get("/").cookies  # read afresh, and a new cookie written
    assert COOKIE not in visitor.get("/").cookies
    assert shown(visitor) == 2


def test_without_redis_the_cart_is_read_from_the_database(settings: SettingsWrapper) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "kassa.common.cache.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    visitor = Client()
    item = ItemFactory.create()
    add(visitor, item, 2)
    assert shown(visitor) == 2
    add(visitor, item, 1)
    assert shown(visitor) == 3
