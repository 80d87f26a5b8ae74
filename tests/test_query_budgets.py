"""Each endpoint keeps to its query budget (tests/query_budgets.toml), with 1 item or line and
with 50: one over its budget fails, and so does one whose count grows with the size of the cart,
the order or the catalog.

Each scenario sets the shop up at a size, warms what a process caches (a page served before,
the default taxes and shipping rates read), then counts the statements of one request.
"""

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from kassa.catalog.models import Collection, CollectionProduct, Item
from kassa.customers.models import Customer
from kassa.orders.models import Order, OrderLine
from tests.factories import (
    DiscountFactory,
    ItemFactory,
    TaxFactory,
    carts_like_the_bench,
    product_with_variants,
)
from tests.fake_stripe import FakeStripe
from tests.redis_dbs import REPLICAS_URL
from tests.stripe_events import WEBHOOK_SECRET, encode, event, signature

pytestmark = pytest.mark.django_db

TABLE = Path(__file__).with_name("query_budgets.toml")
SIZES = (1, 50)


@dataclass(frozen=True)
class Budget:
    """At most `base` statements, plus `per_line` for each line where the endpoint writes each
    line's stock on purpose (one conditional UPDATE per item: kassa.orders.stock)."""

    base: int
    per_line: int = 0

    def check(self, endpoint: str, counts: list[int]) -> None:
        limits = [self.base + self.per_line * size for size in SIZES]
        over = [
            (size, count, limit)
            for size, count, limit in zip(SIZES, counts, limits, strict=True)
            if count > limit
        ]
        assert not over, f"{endpoint}: (size, statements, budget) {over}"
        growth = counts[-1] - counts[0]
        allowed = self.per_line * (SIZES[-1] - SIZES[0])
        assert growth <= allowed, f"{endpoint} grows with the size: {counts}"


def _budget(value: int | dict[str, int]) -> Budget:
    return Budget(value) if isinstance(value, int) else Budget(**value)


BUDGETS: dict[str, Budget] = {
    endpoint: _budget(value)
    for section in tomllib.loads(TABLE.read_text()).values()
    for endpoint, value in section.items()
}


@dataclass
class Request:
    client: Client
    method: str
    path: str
    body: Any = None
    status: int = 200
    # A GET that starts a payment makes a new one each time: not sent twice to warm up.
    repeatable: bool = True
    # A page view with its shared copy kept (warmed twice: once for the message the cart left,
    # once for the copy): what a customer's next page costs. Others are rendered afresh.
    shared_copy: bool = False
    # Counted as the first request of a second (make bench counts the admin's pages so): the
    # catalog revision read afresh, once for the request however much it prices.
    first_of_a_second: bool = False

    def send(self) -> Any:
        if self.body is None:
            return getattr(self.client, self.method)(self.path)
        if isinstance(self.body, dict) and "content_type" in self.body:
            return getattr(self.client, self.method)(self.path, **self.body)
        return getattr(self.client, self.method)(
            self.path, json.dumps(self.body), content_type="application/json"
        )


Scenario = Callable[[int], Request]
SCENARIOS: dict[str, Scenario] = {}


def scenario(endpoint: str) -> Callable[[Scenario], Scenario]:
    def register(build: Scenario) -> Scenario:
        SCENARIOS[endpoint] = build
        return build

    return register


# --- the shop at a size ---------------------------------------------------------------------


def items(size: int) -> list[Item]:
    return ItemFactory.create_batch(size, price=Decimal("12.50"), stock=1000)


def cart_of(client: Client, size: int) -> Order:
    """A visitor's cart with `size` lines (their browser: `client`), a discount and a tax."""
    lines = items(size)
    for item in lines:
        assert client.post(f"/item/{item.pk}/add-to-order/", {"quantity": 2}).status_code == 302
    cart = Order.objects.get(status=Order.Status.OPEN, lines__item=lines[0])
    cart.discount = DiscountFactory.create()
    cart.tax = TaxFactory.create()
    cart.save(update_fields=["discount", "tax"])
    return cart


class ApiClient(Client):
    """A browser of the API: its CSRF token sent with every write."""

    def __init__(self) -> None:
        super().__init__(enforce_csrf_checks=True)
        self.token = ""
        self.token = self.get("/api/v1/csrf").json()["csrf_token"]

    def generic(self, method: str, path: str, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        extra.setdefault("HTTP_X_CSRFTOKEN", self.token)
        return super().generic(method, path, *args, **extra)


def api_cart_of(size: int) -> tuple[ApiClient, Order, list[Item]]:
    client = ApiClient()
    lines = items(size)
    for item in lines:
        body = json.dumps({"item_id": item.pk, "quantity": 2})
        assert client.post(
            "/api/v1/cart/lines", body, content_type="application/json"
        ).status_code in (200, 201)
    return client, Order.objects.get(status=Order.Status.OPEN, lines__item=lines[0]), lines


def paid_order(size: int) -> Order:
    order = Order.objects.create(
        currency="usd", status=Order.Status.PAID, email="buyer@example.com"
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, item=item, quantity=1, unit_price=item.price) for item in items(size)
    )
    return order


# --- pages ----------------------------------------------------------------------------------


@scenario("GET /")
def catalog_page(size: int) -> Request:
    items(size)
    return Request(Client(), "get", "/")


@scenario("GET /?q=")
def search_page(size: int) -> Request:
    ItemFactory.create_batch(size, name="Blue mug")
    return Request(Client(), "get", "/?q=mug")


@scenario("GET /item/<id>/")
def item_page(size: int) -> Request:
    return Request(Client(), "get", f"/item/{items(size)[-1].pk}/")


@scenario("GET /products/<handle>/")
def product_page(size: int) -> Request:
    """A product of `size` variants (sizes), as its picker shows them."""
    sizes = [f"S{n}" for n in range(size)]
    product, _ = product_with_variants(f"Tee {size}", options={"Size": sizes})
    return Request(Client(), "get", f"/products/{product.handle}/")


@scenario("GET /collections/<handle>/")
def collection_page(size: int) -> Request:
    """A collection of `size` products of two variants each."""
    collection = Collection.objects.create(name=f"Wear {size}", handle=f"wear-{size}")
    for n in range(size):
        product, _ = product_with_variants(f"Tee {size}-{n}", options={"Size": ["S", "M"]})
        CollectionProduct.objects.create(collection=collection, product=product, position=n)
    return Request(Client(), "get", f"/collections/{collection.handle}/")


@scenario("POST /item/<id>/add-to-order/")
def add_to_cart(size: int) -> Request:
    client = Client()
    cart_of(client, size)
    extra = items(1)[0]
    return Request(
        client,
        "post",
        f"/item/{extra.pk}/add-to-order/",
        {"content_type": "application/x-www-form-urlencoded", "data": "quantity=1"},
        status=302,
    )


@scenario("GET /orders/<id>/")
def cart_page(size: int) -> Request:
    client = Client()
    return Request(client, "get", f"/orders/{cart_of(client, size).pk}/")


@scenario("GET /buy/<id>")
def buy_click(size: int) -> Request:
    return Request(Client(), "get", f"/buy/{items(size)[-1].pk}", repeatable=False)


@scenario("GET /orders/<id>/buy/")
def order_checkout(size: int) -> Request:
    client = Client()
    return Request(client, "get", f"/orders/{cart_of(client, size).pk}/buy/", repeatable=False)


def _completed_checkout(size: int, fake: FakeStripe) -> tuple[Client, dict[str, Any]]:
    client = Client()
    cart = cart_of(client, size)
    session_id = client.get(f"/orders/{cart.pk}/buy/").json()["id"]
    return client, fake.resources.complete_checkout_session(session_id)


# --- pages for a visitor with a cart and for a signed-in customer: their shared copies kept, the
# header's cart from the signed cookie and one read of the shared cache (Redis) -----------------

PERSONAL: set[str] = set()


def collection_of(size: int) -> str:
    """A collection of `size` products of one variant each (the cart's size is not its)."""
    collection = Collection.objects.create(name=f"Mine {size}", handle=f"mine-{size}")
    for n in range(size):
        product, _ = product_with_variants(f"Cup {size}-{n}", options={"Size": ["S"]})
        CollectionProduct.objects.create(collection=collection, product=product, position=n)
    return f"/collections/{collection.handle}/"


def product_of(size: int) -> str:
    product, _ = product_with_variants(f"Mug {size}", options={"Size": ["S", "M"]})
    return f"/products/{product.handle}/"


def customer() -> Client:
    client = Client()
    user = User.objects.create_user(f"c{User.objects.count()}@example.com")
    Customer.objects.create(user=user, email=user.username)
    client.force_login(user)
    return client


def personal(endpoint: str, path: Callable[[int], str], who: Callable[[], Client]) -> None:
    def build(size: int) -> Request:
        client = who()
        cart_of(client, size)
        return Request(client, "get", path(size), shared_copy=True)

    PERSONAL.add(endpoint)
    scenario(endpoint)(build)


for _who, _label in ((Client, "a cart"), (customer, "signed in")):
    personal(f"GET / ({_label})", lambda size: "/", _who)
    personal(f"GET /item/<id>/ ({_label})", lambda size: f"/item/{items(1)[0].pk}/", _who)
    personal(f"GET /products/<handle>/ ({_label})", product_of, _who)
    personal(f"GET /collections/<handle>/ ({_label})", collection_of, _who)


# --- API --------------------------------------------------------------------------------------


@scenario("GET /api/v1/items")
def api_items(size: int) -> Request:
    items(size)
    return Request(Client(), "get", "/api/v1/items")


@scenario("GET /api/v1/items/<id>")
def api_item(size: int) -> Request:
    return Request(Client(), "get", f"/api/v1/items/{items(size)[-1].pk}")


@scenario("POST /api/v1/items/<id>/buy")
def api_buy(size: int) -> Request:
    return Request(ApiClient(), "post", f"/api/v1/items/{items(size)[-1].pk}/buy", {})


@scenario("GET /api/v1/cart")
def api_cart(size: int) -> Request:
    client, _, _ = api_cart_of(size)
    return Request(client, "get", "/api/v1/cart")


@scenario("POST /api/v1/cart/lines")
def api_add_line(size: int) -> Request:
    client, _, _ = api_cart_of(size)
    return Request(client, "post", "/api/v1/cart/lines", {"item_id": items(1)[0].pk})


@scenario("PATCH /api/v1/cart/lines/<id>")
def api_set_quantity(size: int) -> Request:
    client, _, lines = api_cart_of(size)
    return Request(client, "patch", f"/api/v1/cart/lines/{lines[-1].pk}", {"quantity": 3})


@scenario("DELETE /api/v1/cart/lines/<id>")
def api_remove_line(size: int) -> Request:
    client, _, lines = api_cart_of(size)
    return Request(client, "delete", f"/api/v1/cart/lines/{lines[-1].pk}")


@scenario("PUT /api/v1/cart/discount")
def api_apply_discount(size: int) -> Request:
    client, _, _ = api_cart_of(size)
    code = DiscountFactory.create(code=f"WELCOME{size}").code
    return Request(client, "put", "/api/v1/cart/discount", {"code": code})


@scenario("DELETE /api/v1/cart/discount")
def api_remove_discount(size: int) -> Request:
    client, cart, _ = api_cart_of(size)
    cart.discount = DiscountFactory.create()
    cart.save(update_fields=["discount"])
    return Request(client, "delete", "/api/v1/cart/discount")


@scenario("GET /api/v1/orders")
def api_orders(size: int) -> Request:
    client, _, _ = api_cart_of(size)
    return Request(client, "get", "/api/v1/orders")


@scenario("GET /api/v1/orders/<id>")
def api_order(size: int) -> Request:
    client, cart, _ = api_cart_of(size)
    return Request(client, "get", f"/api/v1/orders/{cart.pk}")


@scenario("POST /api/v1/orders/<id>/checkout")
def api_checkout(size: int) -> Request:
    client, cart, _ = api_cart_of(size)
    return Request(client, "post", f"/api/v1/orders/{cart.pk}/checkout", {})


@scenario("POST /api/v1/orders/<id>/payment-intent")
def api_payment_intent(size: int) -> Request:
    client, cart, _ = api_cart_of(size)
    return Request(client, "post", f"/api/v1/orders/{cart.pk}/payment-intent", {})


# --- admin ------------------------------------------------------------------------------------


def staff() -> Client:
    client = Client()
    owner = User.objects.filter(username="owner").first()
    client.force_login(owner or User.objects.create_superuser("owner", "owner@example.com", "pw"))
    return client


@scenario("GET /admin/orders/order/")
def admin_orders(size: int) -> Request:
    for _ in range(size):
        paid_order(1)
    return Request(staff(), "get", "/admin/orders/order/")


@scenario("GET /admin/orders/order/<id>/change/")
def admin_order(size: int) -> Request:
    return Request(staff(), "get", f"/admin/orders/order/{paid_order(size).pk}/change/")


@scenario("GET /admin/dashboard/cart/")
def admin_carts(size: int) -> Request:
    """`size` carts as a long history leaves them (bench/orders_fixture.py): one to three lines,
    every other one an abandoned checkout; some a customer's, with a code or a tax; a sale on."""
    DiscountFactory.create(name=f"Sale {size}", automatic=True, percent_off=Decimal("5"))
    code, tax = DiscountFactory.create(), TaxFactory.create()
    user = User.objects.create_user(f"shopper{size}@example.com")
    carts_like_the_bench(size, items(3), user=user, code=code, tax=tax, prefix=f"cart-{size}-")
    return Request(staff(), "get", "/admin/dashboard/cart/", first_of_a_second=True)


# --- the measuring ----------------------------------------------------------------------------


def warm_up() -> None:
    """One Buy click first, as on a server that has served one: what a process keeps between
    requests (the default taxes and shipping rates, Stripe's objects for them) is read."""
    assert Client().get(f"/buy/{ItemFactory.create().pk}").status_code == 200


def statements(request: Request) -> int:
    """The statements of `request`, sent once before to warm the process's caches where the
    request can be repeated (a GET), and with the shared page caches emptied."""
    if request.method == "get" and request.repeatable:
        for _ in range(2 if request.shared_copy else 1):
            assert request.send().status_code == request.status
    if not request.shared_copy:
        caches["pages"].clear()
        caches["searches"].clear()
    refresh = 0 if request.first_of_a_second else settings.CATALOG_PAGE_REFRESH_SECONDS
    with (
        override_settings(CATALOG_PAGE_REFRESH_SECONDS=refresh),
        CaptureQueriesContext(connection) as captured,
    ):
        response = request.send()
    assert response.status_code == request.status, response.content[:500]
    return len(captured)


def test_every_budget_has_a_scenario_and_every_scenario_a_budget() -> None:
    measured_apart = {"POST /stripe/webhook/", "GET /checkout/success/"}
    assert set(BUDGETS) - set(SCENARIOS) - measured_apart == set()
    assert set(SCENARIOS) - set(BUDGETS) == set()


@pytest.mark.parametrize("endpoint", sorted(SCENARIOS))
def test_an_endpoint_keeps_to_its_budget_at_any_size(
    endpoint: str, fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    if endpoint in PERSONAL:  # the shared cache in Redis, as in production
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "kassa.common.cache.FailSoftRedisCache",
                "LOCATION": REPLICAS_URL,
            },
        }
        caches["default"].clear()
    warm_up()
    BUDGETS[endpoint].check(endpoint, [statements(SCENARIOS[endpoint](size)) for size in SIZES])


def test_the_webhook_and_the_success_page_keep_to_their_budgets_at_any_size(
    fake_stripe: FakeStripe, settings: Any
) -> None:
    """The payment Stripe reports (checkout.session.completed for an order of 1 and of 50
    lines), then the customer back on the success page."""
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    warm_up()
    counts: dict[str, list[int]] = {"POST /stripe/webhook/": [], "GET /checkout/success/": []}
    for size in SIZES:
        client, completed = _completed_checkout(size, fake_stripe)
        payload = encode(event("checkout.session.completed", completed))
        with CaptureQueriesContext(connection) as webhook:
            response = Client().post(
                "/stripe/webhook/",
                payload,
                content_type="application/json",
                headers={"Stripe-Signature": signature(payload)},
            )
        assert response.status_code == 200
        assert Order.objects.get(pk=completed["metadata"]["order_id"]).status == Order.Status.PAID
        counts["POST /stripe/webhook/"].append(len(webhook))
        success = Request(client, "get", f"/checkout/success/?session_id={completed['id']}")
        counts["GET /checkout/success/"].append(statements(success))
    for endpoint, measured in counts.items():
        BUDGETS[endpoint].check(endpoint, measured)
