"""A shop with a long order history, written by PostgreSQL itself (generate_series), not by one
ORM save an order: a million orders take minutes, not hours.

    python -m bench.orders_fixture fill <orders>   # fill an empty, migrated database (once)
    python -m bench.orders_fixture session         # a superuser's session cookie, for the load
    python -m bench.orders_fixture queries <paths> # SQL queries of each admin page (JSON list)
    python -m bench.orders_fixture cold            # the dashboard's cached figures forgotten

What it writes, for `orders` orders spread evenly over HISTORY_DAYS days up to now (the id grows
with the time, as in a real shop): 50 items; one to three lines an order; in the last 30 days
one order in twenty an open cart (half of them an abandoned checkout) and one in twenty being
paid (older carts are gone, as `clean_abandoned_orders --older-than 30d` leaves a shop that runs
it daily, docs/deploy.md); 3% refunded and 2% partly refunded, the rest paid; a payment attempt
for every order that was ever taken to payment; paid orders delivered, but those of the last ten
days half unfulfilled and half shipped; about three orders a customer, an e-mail in mixed case
(`Customer42@Example.com`). Then VACUUM ANALYZE, as autovacuum would soon after an import. A
table `bench_fixture` records the size, so a database already filled is reused as it is.

Prints JSON: the size, an order to open, a month to export, an e-mail to search for.
"""

import json
import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from kassa.catalog.models import Item  # noqa: E402

HISTORY_DAYS = 730
ITEMS = 50
# The order the order page opens and the customer the search looks for: past the middle of the
# history, a paid order of three lines (1 + n % 3 lines: n % 3 == 2).
PROBE = 0.6


def _items() -> list[tuple[int, int, Decimal]]:
    """(index, id, price) of the fixture's items, made once."""
    items = list(Item.objects.filter(sku__startswith="BENCH-").order_by("sku"))
    if not items:
        Item.objects.bulk_create(
            Item(
                name=f"Bench item {n:02d}",
                sku=f"BENCH-{n:02d}",
                description="A fine thing.",
                price=Decimal(10 + n),
                currency="usd",
            )
            for n in range(ITEMS)
        )
        items = list(Item.objects.filter(sku__startswith="BENCH-").order_by("sku"))
    return [(n, item.pk, item.price) for n, item in enumerate(items)]


# Orders, by n from 1 to :count, the oldest first (ids = n). The lines are item (n + 17 j) % 50
# for j = 0 .. n % 3, of quantity 1 + (n + j) % 2, at the item's price: amount_paid is their sum.
ORDERS = """
INSERT INTO orders_order (
    id, status, currency, visitor_token, amount_paid, amount_refunded, created_at, updated_at,
    paid_at, refunded_at, email, customer_name, language, fulfilment_status, shipped_at,
    delivered_at, carrier, tracking_number
)
SELECT
    n, s.status, 'usd', md5('bench' || n), a.amount,
    CASE s.status WHEN 'refunded' THEN a.amount WHEN 'partially_refunded' THEN a.amount / 2
        ELSE 0 END,
    t.at, t.at + interval '5 minutes',
    CASE WHEN s.paid THEN t.at + interval '5 minutes' END,
    CASE WHEN s.status IN ('refunded', 'partially_refunded') THEN t.at + interval '3 days' END,
    CASE WHEN s.status = 'open' THEN '' ELSE 'Customer' || (n %% %(customers)s) || '@Example.com'
        END,
    CASE WHEN s.status = 'open' THEN '' ELSE 'Customer ' || (n %% %(customers)s) END,
    'en', f.status,
    CASE WHEN f.status IN ('shipped', 'delivered') THEN t.at + interval '1 day' END,
    CASE WHEN f.status = 'delivered' THEN t.at + interval '3 days' END,
    CASE WHEN f.status IN ('shipped', 'delivered') THEN 'DHL' ELSE '' END,
    CASE WHEN f.status IN ('shipped', 'delivered') THEN 'JD' || n ELSE '' END
FROM generate_series(1, %(count)s) AS n
CROSS JOIN LATERAL (
    SELECT %(now)s - (%(count)s - n) * (interval '1 day' * %(days)s / %(count)s) AS at
) AS t
CROSS JOIN LATERAL (
    SELECT status, status NOT IN ('open', 'pending') AS paid FROM (
        SELECT CASE
            WHEN n %% 20 = 0 AND t.at > %(now)s - interval '30 days' THEN 'open'
            WHEN n %% 20 = 10 AND t.at > %(now)s - interval '30 days' THEN 'pending'
            WHEN n %% 100 IN (1, 21, 41) THEN 'refunded'
            WHEN n %% 100 IN (3, 23) THEN 'partially_refunded'
            ELSE 'paid' END AS status
    ) AS chosen
) AS s
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN NOT s.paid THEN ''
        WHEN s.status = 'refunded' OR t.at < %(now)s - interval '10 days' THEN 'delivered'
        WHEN n %% 2 = 0 THEN 'unfulfilled' ELSE 'shipped' END AS status
) AS f
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.paid THEN sum((1 + (n + j) %% 2) * (10 + (n + 17 * j) %% 50) * 100)::bigint
        END AS amount
    FROM generate_series(0, n %% 3) AS j
) AS a
"""

LINES = """
INSERT INTO orders_orderline (order_id, item_id, quantity, unit_price)
SELECT n, i.id, 1 + (n + j) %% 2, i.price
FROM generate_series(1, %(count)s) AS n
CROSS JOIN LATERAL generate_series(0, n %% 3) AS j
JOIN bench_items AS i ON i.idx = (n + 17 * j) %% 50
ORDER BY n, j
"""

# An attempt for every order taken to payment, and for half the open ones (abandoned checkouts).
ATTEMPTS = """
INSERT INTO payments_paymentattempt (
    order_id, number, kind, stripe_id, payment_intent_id, account, state, currency, opened_at,
    note
)
SELECT o.id, 1, 'checkout_session', 'cs_bench_' || o.id, 'pi_bench_' || o.id, 'bench',
    CASE o.status WHEN 'open' THEN 'closed' WHEN 'pending' THEN 'open' ELSE 'paid' END,
    o.currency, o.created_at, ''
FROM orders_order AS o
WHERE o.status <> 'open' OR o.id % 40 = 0
ORDER BY o.id
"""


SEQUENCE = "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"


def _probe(count: int) -> int:
    n = int(count * PROBE)
    while n % 3 != 2 or n % 20 in (0, 10) or n % 100 in (1, 3, 21, 23, 41):
        n += 1
    return n


def _filled() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_fixture') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT orders FROM bench_fixture")
        row = cursor.fetchone()
        return None if row is None else int(row[0])


def fill(count: int) -> dict[str, Any]:
    started = time.monotonic()
    filled = _filled()
    if filled is not None and filled != count:
        sys.exit(f"this database holds the fixture of {filled} orders, not {count}")
    if filled is None:
        items = _items()
        params: dict[str, Any] = {
            "count": count,
            "days": HISTORY_DAYS,
            "customers": max(count // 3, 1),
            "now": timezone.now(),
        }
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bench_items (idx int, id bigint, price numeric)")
            cursor.executemany("INSERT INTO bench_items VALUES (%s, %s, %s)", items)
            for statement in (ORDERS, LINES):
                cursor.execute(statement, params)
            cursor.execute(ATTEMPTS)
            for table in ("orders_order", "orders_orderline", "payments_paymentattempt"):
                # The ids were given, not drawn: the next one drawn follows them.
                cursor.execute(SEQUENCE.format(table=table))
            cursor.execute("CREATE TABLE bench_fixture (orders int)")
            cursor.execute("INSERT INTO bench_fixture VALUES (%s)", [count])
        connection.set_autocommit(True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    probe = _probe(count)
    today = timezone.localdate()
    month_start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month_end = today.replace(day=1) - timedelta(days=1)
    return {
        "orders": count,
        "seconds": round(time.monotonic() - started, 1),
        "reused": filled is not None,
        "order": probe,
        "email": f"customer{probe % max(count // 3, 1)}@example.com",
        "month": [month_start.isoformat(), month_end.isoformat()],
    }


ADMIN = "bench-admin"
# kassa.backoffice.selectors.cached_sales_overview's key.
OVERVIEW_KEY = "kassa.backoffice.overview:%s"
# What the bench's requests send: the production settings expect the TLS proxy's header.
REQUEST = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}


def _admin() -> Any:
    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN).first()
    return user or user_model.objects.create_superuser(ADMIN, "admin@example.com", None)


def session() -> dict[str, str]:
    """A signed-in superuser's session cookie (the caller's secret key signs its hash)."""
    client = Client()
    client.force_login(_admin())
    name = settings.SESSION_COOKIE_NAME
    return {"cookie": f"{name}={client.cookies[name].value}"}


def cold_dashboard() -> dict[str, bool]:
    """The dashboard's figures computed afresh on the next view, not read from their cache."""
    return {"deleted": cache.delete(OVERVIEW_KEY % timezone.get_current_timezone_name())}


def queries(paths: str) -> dict[str, int]:
    """The SQL statements each GET sends (a streamed body read to its end), the cache empty."""
    client = Client()
    client.force_login(_admin())
    counts = {}
    for path in json.loads(paths):
        # Nothing from the cache (the dashboard's figures), and the shop's settings read as
        # the first request of every second reads them: the counts are the same whichever
        # page ran before, and however fast.
        cache.clear()
        with (
            override_settings(CATALOG_PAGE_REFRESH_SECONDS=0),
            CaptureQueriesContext(connection) as captured,
        ):
            response = client.get(path, **REQUEST)  # type: ignore[arg-type]
            if response.streaming:
                for _chunk in response.streaming_content:  # type: ignore[attr-defined]
                    pass
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        counts[path] = len(captured)
    return counts


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "fill" and len(sys.argv) == 3 and sys.argv[2].isdigit():
        json.dump(fill(int(sys.argv[2])), sys.stdout)
    elif command == "cold":
        json.dump(cold_dashboard(), sys.stdout)
    elif command == "session":
        json.dump(session(), sys.stdout)
    elif command == "queries" and len(sys.argv) == 3:
        json.dump(queries(sys.argv[2]), sys.stdout)
    else:
        sys.exit(__doc__)
