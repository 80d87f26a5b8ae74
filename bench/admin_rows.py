"""The admin and the dashboard with a long order history: each page timed on a shop of
SMALL_ORDERS orders and on one of `--orders`, one request at a time, the two taking turns.

The two databases are kept between runs (filling a million orders takes minutes):
`<name>_<orders>` on the bench's PostgreSQL server, `<name>` from `--orders-database`. Each run
migrates them (new indexes reach the old rows) and fills one only when it is empty
(bench/orders_fixture.py). One gunicorn serves each, as production runs it, with one worker:
the requests come one at a time, so a page's time is its own work, not a queue.
"""

import argparse
import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.processes import HTTPS, gunicorn, manage, shop_env

SMALL_ORDERS = 1_000
# The most a page at `--orders` may take, as a multiple of the same page at SMALL_ORDERS.
TARGET_RATIO = 3.0


def pages(fixture: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, label, path) of each row; the fixture names its order, customer and month."""
    start, end = fixture["month"]
    # A filter that fills a page in both shops (the orders to ship are a handful at 1,000).
    delivered = "status__exact=paid&fulfilment_status__exact=delivered"
    return [
        ("orders", "orders list, first page", "/admin/orders/order/"),
        (
            "orders_filter",
            "orders list, filtered (paid, delivered)",
            f"/admin/orders/order/?{delivered}",
        ),
        (
            "orders_search",
            "orders list, search by e-mail",
            f"/admin/orders/order/?q={quote(fixture['email'])}",
        ),
        ("order", "one order's page", f"/admin/orders/order/{fixture['order']}/change/"),
        ("carts", "carts list, first page", "/admin/dashboard/cart/"),
        ("dashboard", "dashboard (figures computed afresh)", "/admin/"),
        ("export", "CSV export of a month", f"/admin/sales/export/?start={start}&end={end}"),
    ]


def _database(server_url: str, name: str) -> str:
    """`name` on the server, made if missing (never dropped: it keeps its fixture)."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def _prepared(database_url: str, orders: int, fake_url: str) -> tuple[dict[str, str], Any]:
    env = shop_env(database_url, fake_url)
    manage("manage.py", "migrate", "--noinput", env=env)
    print(f"  the admin's shop of {orders} orders (filled once, then reused)...", flush=True)
    fixture = _in_process(env, "fill", str(orders))
    print(
        f"  {orders} orders: {'reused' if fixture['reused'] else 'filled'} in "
        f"{fixture['seconds']} s",
        flush=True,
    )
    return env, fixture


@contextmanager
def _shops(
    args: argparse.Namespace, server_url: str, fake_url: str, logs: Path
) -> Iterator[list[dict[str, Any]]]:
    small_name = f"{args.orders_database}_{SMALL_ORDERS}"
    shops = []
    for orders, name in ((SMALL_ORDERS, small_name), (args.orders, args.orders_database)):
        env, fixture = _prepared(_database(server_url, name), orders, fake_url)
        shops.append({"orders": orders, "database": name, "env": env, "fixture": fixture})
    # The admin's pages name their static files as production does (a manifest), which `--only
    # admin` would otherwise find missing in a checkout that never ran the whole bench.
    manage("manage.py", "collectstatic", "--noinput", "--verbosity", "0", env=shops[0]["env"])
    with ExitStack() as stack:
        for shop in shops:
            base_url, _master = stack.enter_context(
                gunicorn(["--workers=1"], env=shop["env"], log=logs / f"admin-{shop['orders']}.log")
            )
            shop["base_url"] = base_url
            shop["cookie"] = _in_process(shop["env"], "session")["cookie"]
        yield shops


def _get(shop: dict[str, Any], path: str) -> dict[str, float]:
    """One GET, read to its end: seconds to the first byte of the body and to the last."""
    if path == "/admin/":
        # The dashboard's figures are kept a minute: the row measures computing them.
        _in_process(shop["env"], "cold")
    request = urllib.request.Request(
        shop["base_url"] + path, headers={**HTTPS, "Cookie": shop["cookie"], "Host": "127.0.0.1"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        response.read(1)
        first = time.perf_counter() - started
        size = 1 + len(response.read())
    return {"first_byte_s": first, "total_s": time.perf_counter() - started, "bytes": size}


def run(args: argparse.Namespace, server_url: str, fake_url: str, logs: Path) -> dict[str, Any]:
    with _shops(args, server_url, fake_url, logs) as shops:
        small, large = shops
        rows = []
        paths = {shop["orders"]: pages(shop["fixture"]) for shop in shops}
        for shop in shops:
            listed = json.dumps([path for _key, _label, path in paths[shop["orders"]]])
            shop["queries"] = _in_process(shop["env"], "queries", listed)
        for index, (key, label, _path) in enumerate(paths[SMALL_ORDERS]):
            row: dict[str, Any] = {"key": key, "label": label, "rounds": []}
            for shop in shops:
                path = paths[shop["orders"]][index][2]
                row[f"path_{shop['orders']}"] = path
                row[f"queries_{shop['orders']}"] = shop["queries"][path]
                _get(shop, path)  # warm: the first view of a page compiles its templates
            for round_ in range(args.admin_rounds):
                # Taking turns, each shop first in every other round.
                turn = shops if round_ % 2 == 0 else shops[::-1]
                timings = {str(s["orders"]): _get(s, paths[s["orders"]][index][2]) for s in turn}
                row["rounds"].append(timings)
            rows.append(row)
            print(f"  {admin_line(row, small['orders'], large['orders'])}", flush=True)
        return {
            "small": small["orders"],
            "large": large["orders"],
            "fixtures": {str(s["orders"]): s["fixture"] for s in shops},
            "rows": rows,
        }


def _in_process(env: dict[str, str], *args: str) -> Any:
    """One of bench/orders_fixture.py's steps in the shop's environment: the JSON it prints."""
    return json.loads(manage("-m", "bench.orders_fixture", *args, env=env))


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def measure(row: dict[str, Any], small: int, large: int) -> dict[str, Any]:
    """The row's figures: median times, and the median of the rounds' own ratios. The export is
    judged by its first byte (a streamed file's wait), its whole length given beside it."""
    which = "first_byte_s" if row["key"] == "export" else "total_s"
    ratios = [r[str(large)][which] / r[str(small)][which] for r in row["rounds"]]

    def times(orders: int) -> list[float]:
        return [r[str(orders)][which] for r in row["rounds"]]

    ratio = _median(ratios)
    return {
        "ms_small": 1000 * _median(times(small)),
        "ms_large": 1000 * _median(times(large)),
        "ratio": ratio,
        "ratios": ratios,
        "same_queries": row[f"queries_{small}"] == row[f"queries_{large}"],
        "met": ratio <= TARGET_RATIO and row[f"queries_{small}"] == row[f"queries_{large}"],
    }


def admin_line(row: dict[str, Any], small: int, large: int) -> str:
    m = measure(row, small, large)
    return (
        f"{row['label']}: {row[f'queries_{small}']} / {row[f'queries_{large}']} queries, "
        f"{m['ms_small']:.0f} / {m['ms_large']:.0f} ms, {m['ratio']:.2f} ×"
    )
