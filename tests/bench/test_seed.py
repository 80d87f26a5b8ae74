"""The bench measures what the shop does for a customer: its seed must be something a customer
can buy and browse, or its rows would time refusals (a rule the shop gains, such as goods to
send needing a shipping rate, must reach the seed too)."""

import re
from typing import Any

import pytest
from django.test import Client

from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def seed() -> dict[str, Any]:
    from bench import django_side

    result: dict[str, Any] = django_side.seed()
    return result


def test_the_bench_items_buy_is_a_checkout(seed: dict[str, Any], fake_stripe: FakeStripe) -> None:
    response = Client().get(f"/buy/{seed['item']}", **HTTPS)  # type: ignore[arg-type]

    assert response.status_code == 200, response.content
    assert response.json()["id"].startswith("cs_")


def test_the_bench_orders_checkouts_start(seed: dict[str, Any], fake_stripe: FakeStripe) -> None:
    for order in seed["checkout_orders"]:
        client = Client()
        client.cookies["sessionid"] = order["session"]
        response = client.get(f"/orders/{order['id']}/buy/", **HTTPS)  # type: ignore[arg-type]
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("visitor", ["returning_cookie", "customer_cookie"])
def test_the_bench_visitors_pages_show_their_carts(seed: dict[str, Any], visitor: str) -> None:
    client = Client()
    client.cookies.load(seed[visitor])
    response = client.get(f"/item/{seed['item']}/", **HTTPS)  # type: ignore[arg-type]

    assert response.status_code == 200
    count = re.search(r'id="cart-count"[^>]*>(\d+)<', response.content.decode())
    assert count is not None
    assert int(count[1]) > 0
