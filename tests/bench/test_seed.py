"""The bench measures what the shop does for a customer: its seed must be something a customer
can buy and browse, against the bench's own fake Stripe, or its rows would time refusals (a rule
the shop gains, such as goods to send needing a shipping rate, must reach the seed, and a Stripe
call the Buy path gains must reach the fake)."""

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from bench.processes import fake_stripe, free_port

pytestmark = pytest.mark.django_db

HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture(scope="module")
def bench_fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"http://127.0.0.1:{free_port()}"
    log = Path(tmp_path_factory.mktemp("bench-fake")) / "fake.log"
    with fake_stripe(url, 0.0, env={"PATH": str(Path(sys.executable).parent)}, log=log):
        yield url


@pytest.fixture
def seed(bench_fake: str, settings: Settings) -> dict[str, Any]:
    from bench import django_side

    settings.STRIPE_API_BASE = bench_fake
    settings.STRIPE_API_KEY = "sk_test_bench"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_bench"
    result: dict[str, Any] = django_side.seed()
    return result


def test_the_bench_items_buy_is_a_checkout(seed: dict[str, Any]) -> None:
    response = Client().get(f"/buy/{seed['item']}", **HTTPS)  # type: ignore[arg-type]

    assert response.status_code == 200, response.content
    assert response.json()["id"].startswith("cs_")


def test_the_bench_orders_checkouts_start(seed: dict[str, Any]) -> None:
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
