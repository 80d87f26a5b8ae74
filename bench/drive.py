"""What a run drives at the shop: the pages beside a trivial view and /buy beside a view making
one Stripe call, in rounds that take turns (a busy neighbour on a virtual machine slows all
loads of a round alike, so each round's ratios stand); the pages again in a large catalog; the
Stripe calls of an order's checkouts; /buy with the pacer and without it; the flash sales."""

import argparse
import re
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import flash_sale
from bench.load import Load, Server, diff, fake_counts, get, load_line, settled
from bench.processes import HTTPS, django_side, gunicorn

HEADER_COOKIE = "kassa_header"

PAGE_CLIENTS = 16
BUY_CLIENTS = (16, 32, 64)
PACER_CLIENTS = 64  # where the CPU is the limit, so any cost of the pacer would show
LARGE_CATALOG = 10_000
# The search the page runs make: a Russian plural, found by its stem in a few of every hundred
# items (bench/django_side.py names them).
SEARCH_WORDS = "кружки"
BEFORE_PACING = "neither (as before pacing)"


def shop(
    server: Server,
    seed: dict[str, Any],
    args: argparse.Namespace,
    env: dict[str, str],
) -> dict[str, Any]:
    """The pages, /buy at each number of clients, then the pages at LARGE_CATALOG items."""
    item, collection = seed["item"], seed["collection"]
    search = f"/?q={quote(SEARCH_WORDS)}"
    # The cookies of a browser that has seen a page: the header's cookie the shop set then.
    cart = with_header_cookie(server.base_url, seed["returning_cookie"])
    customer = with_header_cookie(server.base_url, seed["customer_cookie"])
    # name: (path, cookie); "returning" is the item page for a visitor with cookies and a cart,
    # "customer" for a signed-in customer with a cart.
    page_runs = {
        "trivial": ("/bench/trivial/", ""),
        "catalog": ("/", ""),
        "item": (f"/item/{item}/", ""),
        "collection": (collection, ""),
        "returning": (f"/item/{item}/", cart),
        "returning_catalog": ("/", cart),
        "returning_collection": (collection, cart),
        "customer": (f"/item/{item}/", customer),
        "customer_catalog": ("/", customer),
        "customer_collection": (collection, customer),
        "search": (search, ""),
    }
    pages = _page_rounds(server, page_runs, args, "") if args.only != "flash" else {}
    buy: list[dict[str, Any]] = []
    for clients in [] if args.only in ("pages", "flash") else BUY_CLIENTS:
        row: dict[str, Any] = {
            "clients": clients,
            "ideal_per_second": clients / args.latency,
            "buy": [],
            "one_call": [],
        }
        for round_ in range(args.buy_rounds):
            for name, path in (("buy", f"/buy/{item}"), ("one_call", "/bench/stripe-call/")):
                load = server.load(
                    path,
                    clients=clients,
                    seconds=args.buy_seconds,
                    warmup=args.warmup if round_ == 0 else 1,
                )
                row[name].append(load)
                print(f"  {name:11s} {load_line(load)}", flush=True)
        buy.append(row)
    pages_large: dict[str, list[Load]] = {}
    if args.only not in ("buy", "flash"):
        # The same pages in a catalog of LARGE_CATALOG items (after the Buy runs, which stay
        # comparable with earlier runs'), and a page deep into it.
        grown = django_side("grow", env=env)
        print(f"  the catalog now has {grown['items']} items", flush=True)
        time.sleep(1.5)  # past CATALOG_PAGE_REFRESH_SECONDS: every worker sees the new revision
        pages_large = _page_rounds(
            server,
            {
                "trivial": ("/bench/trivial/", ""),
                "catalog": ("/", ""),
                "deep": (f"/?page={grown['deep_page']}", ""),
                "search": (search, ""),
                "item": (f"/item/{item}/", ""),
            },
            args,
            f" at {grown['items']} items",
        )
    return {"pages": pages, "buy": buy, "pages_large": pages_large}


def with_header_cookie(base_url: str, cookie: str) -> str:
    """`cookie` and the header's cookie (kassa.storefront.personal) the shop sets for it, as a
    browser keeps it: wrk sends the same cookies with every request."""
    request = urllib.request.Request(f"{base_url}/", headers={**HTTPS, "Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return cookie_with_header(cookie, response.headers.get_all("Set-Cookie") or [])


def cookie_with_header(cookie: str, set_cookies: Iterable[str]) -> str:
    """`cookie` and the header's cookie among a response's Set-Cookie values. A visitor with a
    cart always gets one: without it the pages would read the cart from the database, and the
    run would measure something else."""
    for header in set_cookies:
        header = header.strip()
        if header.startswith(f"{HEADER_COOKIE}="):
            return f"{cookie}; {header.split(';', 1)[0]}"
    raise RuntimeError("the shop set no header cookie for a visitor with a cart")


def _page_rounds(
    server: Server, runs: dict[str, tuple[str, str]], args: argparse.Namespace, label: str
) -> dict[str, list[Load]]:
    pages: dict[str, list[Load]] = {name: [] for name in runs}
    for round_ in range(0 if args.only == "buy" else args.page_rounds):
        print(f"  pages{label}, round {round_ + 1} of {args.page_rounds}", flush=True)
        for name, (path, cookie) in runs.items():
            load = server.load(
                path,
                clients=PAGE_CLIENTS,
                seconds=args.page_seconds,
                # Later rounds find the pages rendered and the connections open.
                warmup=args.warmup if round_ == 0 else 1,
                cookie=cookie,
            )
            pages[name].append(load)
            print(f"  {name:9s} {load_line(load)}", flush=True)
    return pages


def stripe_calls(base_url: str, fake_url: str, seed: dict[str, Any]) -> list[dict[str, int]]:
    """Stripe calls made by each checkout of an order with a discount and a tax: the first one
    also makes the coupon and the tax rate, every later one only the Checkout Session."""
    calls = []
    settled(fake_url)
    for order in seed["checkout_orders"]:
        before = fake_counts(fake_url)["calls"]
        status = get(
            f"{base_url}/orders/{order['id']}/buy/", cookie=f"sessionid={order['session']}"
        )
        assert status == 200, status
        calls.append(diff(fake_counts(fake_url)["calls"], before))
    return calls


def pacer_rounds(
    args: argparse.Namespace,
    env: dict[str, str],
    logs: Path,
    server_url: str,
    fake_url: str,
    fake_pid: int,
    item: int,
    paced: dict[str, str],
) -> dict[str, Any]:
    """`/buy` at PACER_CLIENTS with the pacer in the path and without it, taking turns (a
    gunicorn started for each run: one at a time)."""
    row: dict[str, Any] = {"clients": PACER_CLIENTS, "buy": [], "buy_unpaced": []}
    unpaced = {"STRIPE_RATE_LIMIT": "0", "STRIPE_CONCURRENCY": paced["STRIPE_CONCURRENCY"]}
    for round_ in range(args.buy_rounds):
        for name, overrides in (("buy", paced), ("buy_unpaced", unpaced)):
            log = logs / f"gunicorn-{name}-{round_}.log"
            with gunicorn(args.gunicorn_arg, env={**env, **overrides}, log=log) as (base, master):
                server = Server(base, master, server_url, fake_url, fake_pid)
                load = server.load(
                    f"/buy/{item}",
                    clients=PACER_CLIENTS,
                    seconds=args.buy_seconds,
                    warmup=args.warmup,
                )
            row[name].append(load)
            print(f"  {name:11s} {load_line(load)}", flush=True)
    return row


def flash_sales(
    args: argparse.Namespace,
    env: dict[str, str],
    logs: Path,
    fake_url: str,
    redis_url: str,
    threads: str,
) -> list[dict[str, Any]]:
    """The flash sale paced through Redis, with pacing off, and as the shop was before it paced:
    no pace, a 429 an error at once, no bulkhead, a Buy button that shows the error."""
    return [
        _flash_sale(args, env, logs, fake_url, label, overrides)
        for label, overrides in (
            ("paced (Redis)", {"REDIS_URL": redis_url}),
            ("pacing off (429s retried)", {"STRIPE_RATE_LIMIT": "0"}),
            (
                BEFORE_PACING,
                {
                    "STRIPE_RATE_LIMIT": "0",
                    "STRIPE_RATE_LIMIT_WAIT_SECONDS": "0",
                    "STRIPE_CONCURRENCY": threads,
                },
            ),
        )
    ]


def _flash_sale(
    args: argparse.Namespace,
    env: dict[str, str],
    logs: Path,
    fake_url: str,
    label: str,
    overrides: dict[str, str],
) -> dict[str, Any]:
    """200 buyers at once for an item of their own, on a gunicorn started for the sale with the
    shop's defaults (the pace of test keys, the bulkhead) and `overrides`, against the fake
    enforcing Stripe's test-mode limit."""
    item = django_side("flash_item", env=env)["item"]
    name = re.sub(r"\W+", "-", label)
    log = logs / f"gunicorn-{name}.log"
    with gunicorn(args.gunicorn_arg, env={**env, **overrides}, log=log) as (base, _master):
        get(f"{base}/item/{item}/")  # a warm shop: the item page rendered, connections open
        settled(fake_url)
        flash_sale.set_limit(fake_url, flash_sale.STRIPE_LIMIT)
        before = fake_counts(fake_url)
        buyers = flash_sale.buyers_at_once(f"{base}/buy/{item}", follow_busy=label != BEFORE_PACING)
        settled(fake_url)
        after = fake_counts(fake_url)
        flash_sale.set_limit(fake_url, 0)
    stripe = {**diff(after["calls"], before["calls"]), "busiest_second": after["busiest_second"]}
    orders = django_side("flash_orders", str(item), env=env)
    row = flash_sale.summary(label, buyers, stripe, orders)
    print(f"  flash sale, {flash_sale.line(row)}", flush=True)
    return row
