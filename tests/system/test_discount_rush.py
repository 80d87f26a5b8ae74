"""A code with 10 uses left and 50 buyers paying with it at once, over real HTTP: gunicorn
(production settings, several processes) on PostgreSQL, stripe-python against the fake Stripe.

Exactly 10 payments begin with the discount; the other 40 are told the code is used up before
they pay, and their carts stay as they were. A session that expires gives its use back.
"""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.system.test_flash_sale import Shop, _at_once, _expire, shop

pytestmark = [pytest.mark.postgres, pytest.mark.db_independent]

BUYERS = 50
USES = 10

__all__ = ["shop"]  # the running shop, shared with the flash sale's set-up


def _code(shop: Shop, code: str, uses: int) -> int:
    [(pk,)] = shop.sql(
        "INSERT INTO orders_discount (name, kind, percent_off, currency, code, active,"
        " max_uses, automatic, min_subtotal, created_at, updated_at)"
        " VALUES ('Rush', 'percent', 20, '', %s, true, %s, false, '{}', now(), now())"
        " RETURNING id",
        code,
        uses,
    )
    return int(pk)


def test_fifty_buyers_for_the_last_ten_uses_get_exactly_ten_discounts(shop: Shop) -> None:
    item = shop.item("Rush mug", 1000)
    discount = _code(shop, "RUSH10", USES)
    buyers = [requests.Session() for _ in range(BUYERS)]

    def fill(n: int) -> int:
        buyer = buyers[n]
        token = buyer.get(f"{shop.base}/api/v1/csrf", timeout=30).json()["csrf_token"]
        added = buyer.post(
            f"{shop.base}/item/{item}/add-to-order/",
            data={"quantity": "1", "csrfmiddlewaretoken": token},
            headers={"Accept": "application/json"},
            timeout=30,
        )
        cart = int(added.json()["id"])
        # Typed in the cart: every buyer may type it while no use is held yet.
        applied = buyer.post(
            f"{shop.base}/orders/{cart}/discount/",
            data={"code": "rush10", "csrfmiddlewaretoken": token},
            headers={"Accept": "application/json", "X-CSRFToken": token},
            timeout=30,
        )
        assert applied.status_code == 200, applied.text
        assert applied.json()["discount"]["amount"] == 198  # 20% of 9.90
        return cart

    with ThreadPoolExecutor(max_workers=16) as pool:
        carts = list(pool.map(fill, range(BUYERS)))

    results = _at_once(
        BUYERS,
        lambda n: buyers[n].get(
            f"{shop.base}/orders/{carts[n]}/buy/",
            headers={"Accept": "application/json"},
            timeout=60,
        ),
    )

    assert Counter(status for status, _ in results) == {200: USES, 409: BUYERS - USES}, results[:3]
    refused = [body for status, body in results if status == 409]
    assert {body["error"] for body in refused} == {"This code has been used up."}
    assert {body["code"] for body in refused} == {"discount_used_up"}
    won = [body for status, body in results if status == 200]
    for body in won:  # each Checkout charges the discounted price
        session = shop.fake.resources.checkout_sessions[body["id"]]
        assert session["amount_total"] == 990 - 198
    [(held,)] = shop.sql(
        "SELECT count(*) FROM orders_discountuse WHERE discount_id = %s AND state = 'held'",
        discount,
    )
    assert held == USES
    statuses = dict(
        shop.sql(
            "SELECT status, count(*) FROM orders_order WHERE id = ANY(%s) GROUP BY status", carts
        )
    )
    assert statuses == {"pending": USES, "open": BUYERS - USES}
    # A refused cart says why, and cannot pay until the code is removed.
    loser = next(n for n, (status, _) in enumerate(results) if status == 409)
    cart = buyers[loser].get(
        f"{shop.base}/orders/{carts[loser]}/", headers={"Accept": "application/json"}, timeout=30
    )
    assert "This code has been used up." in cart.json()["problems"]

    # One session expires: its use is given back, and one more buyer gets it.
    _expire(shop, won[0]["id"])
    [(held,)] = shop.sql(
        "SELECT count(*) FROM orders_discountuse WHERE discount_id = %s AND state = 'held'",
        discount,
    )
    assert held == USES - 1
    retried = buyers[loser].get(
        f"{shop.base}/orders/{carts[loser]}/buy/",
        headers={"Accept": "application/json"},
        timeout=60,
    )
    assert retried.status_code == 200, retried.text
    [(held,)] = shop.sql(
        "SELECT count(*) FROM orders_discountuse WHERE discount_id = %s AND state = 'held'",
        discount,
    )
    assert held == USES
