"""The peer comparison, in order (`--peer oscar`, on its own: no other part runs with it):

1. Oscar's virtualenv, made with pip on first use (bench/peer_oscar/oscar.py);
2. the products (catalog.py) written once, then two throwaway databases on the same PostgreSQL
   server: Kassa's (migrated, the products loaded as the bench grows its catalog) and Oscar's
   (migrated, the same products loaded in bulk, then indexed for Oscar's catalogue);
3. each shop's SQL queries per page, counted in-process in its own virtualenv;
4. rounds: in each, each shop in turn (which goes first alternates) is started in gunicorn,
   alike (worker class, workers, threads, connections, keep-alive; Kassa with the bench's Redis,
   Oscar with a database of its own on it), then loaded with the trivial view, the catalog, a
   product page and a new visitor's add to the basket, and stopped, so each round's Kassa ÷
   Oscar ratio compares loads well under a minute apart. One gunicorn at a time: each keeps a
   database connection per thread that has served (Oscar's ATOMIC_REQUESTS opens one for every
   view, the trivial one too), and two would pass PostgreSQL's 100. The first time each shop
   starts, one add to the basket has to add a line in its database.
"""

import argparse
import contextlib
import http.client
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from bench.drive import PAGE_CLIENTS
from bench.load import Load, Server, load_line, wrk
from bench.machine import cpu_seconds
from bench.peer_oscar import catalog, oscar
from bench.processes import (
    HTTPS,
    django_side,
    fake_stripe,
    free_port,
    gunicorn,
    gunicorn_settings,
    manage,
    own_redis,
    shop_env,
    throwaway_database,
)

SIDES = ("kassa", "oscar")
# Where each shop keeps a basket's lines: a new line per add of a new visitor.
LINES_TABLE = {"kassa": "orders_orderline", "oscar": "basket_line"}


def run(args: argparse.Namespace, server_url: str, logs: Path) -> dict[str, Any]:
    interpreter = oscar.python()
    results: dict[str, Any] = {"oscar": oscar.installed(interpreter)}
    products = logs / "peer-products.json"
    catalog.write(products, catalog.products())
    chosen = str(catalog.CHOSEN)
    fake_url = f"http://127.0.0.1:{free_port()}"
    with (
        throwaway_database(server_url) as kassa_database,
        throwaway_database(server_url, oscar.DATABASE_NAME) as oscar_database,
        own_redis(logs) as redis_url,
    ):
        env = {**shop_env(kassa_database, fake_url), "REDIS_URL": redis_url}
        print("Kassa: migrating, loading the products, counting queries...", flush=True)
        manage("manage.py", "migrate", "--noinput", env=env)
        manage("manage.py", "collectstatic", "--noinput", "--verbosity", "0", env=env)
        kassa = django_side("peer_catalog", str(products), chosen, env=env)
        item = kassa["item"]
        queries = {"kassa": django_side("peer_queries", str(item), env=env)}

        print("Oscar: migrating, loading the products, indexing them, counting...", flush=True)
        oscar_env = oscar.environment(oscar_database, redis_url, logs / "oscar")
        oscar.run(interpreter, "-m", "django", "migrate", "--noinput", env=oscar_env)
        loaded = oscar.step(interpreter, "load", str(products), chosen, env=oscar_env)
        results["index_seconds"] = oscar.step(interpreter, "index", env=oscar_env)["seconds"]
        queries["oscar"] = oscar.step(interpreter, "queries", str(loaded["product"]), env=oscar_env)
        results["oscar"]["settings"] = oscar.step(interpreter, "settings", env=oscar_env)
        results["products"] = {"kassa": kassa["items"], "oscar": loaded["products"]}
        results["queries"] = queries

        # A new visitor each request: the CSRF cookie a first page set, and nothing else.
        token = secrets.token_hex(16)
        cookie, form = f"csrftoken={token}", f"csrfmiddlewaretoken={token}&quantity=1"
        runs = {
            "trivial": {"kassa": ("/bench/trivial/", ""), "oscar": (oscar.TRIVIAL, "")},
            "catalog": {"kassa": ("/", ""), "oscar": ("/catalogue/", "")},
            "product": {"kassa": (f"/item/{item}/", ""), "oscar": (loaded["path"], "")},
            "add": {
                "kassa": (f"/item/{item}/add-to-order/", form),
                "oscar": (f"/basket/add/{loaded['product']}/", form),
            },
        }
        results["paths"] = {
            page: {side: path for side, (path, _) in by.items()} for page, by in runs.items()
        }
        workers = int(manage("-c", "import config.gunicorn as g; print(g.workers)", env=env))
        like = gunicorn_settings(env, args.gunicorn_arg, workers)
        results["gunicorn"] = like
        databases = {"kassa": kassa_database, "oscar": oscar_database}
        with fake_stripe(fake_url, args.latency, env=env, log=logs / "fake.log") as fake_pid:

            @contextlib.contextmanager
            def serving(side: str, log: Path) -> Iterator[Server]:
                if side == "kassa":
                    with gunicorn(args.gunicorn_arg, env=env, log=log) as (url, master):
                        yield Server(url, master, server_url, fake_url, fake_pid)
                else:
                    with oscar.gunicorn(interpreter, like, env=oscar_env, log=log) as (url, master):
                        name = oscar.DATABASE_NAME
                        yield Server(url, master, server_url, fake_url, fake_pid, database=name)

            def first_start(side: str, server: Server) -> None:
                time.sleep(2)  # every worker booted, for the count
                results.setdefault("workers", {})[side] = len(server.workers())
                path, body = runs["add"][side]
                _adds_a_line(server.base_url, path, body, cookie, databases[side], side)

            results["rounds"] = _rounds(serving, first_start, runs, cookie, args, logs)
    return results


def _lines(database_url: str, side: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(LINES_TABLE[side]))
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _adds_a_line(
    base_url: str, path: str, form: str, cookie: str, database_url: str, side: str
) -> None:
    """One POST as wrk sends it: answered with a redirect, and a basket line more in the
    database (a refused form also redirects, back to the page, with nothing added)."""
    before = _lines(database_url, side)
    netloc = urlsplit(base_url).netloc
    conn = http.client.HTTPConnection(netloc, timeout=30)
    headers = {
        **HTTPS,
        "Cookie": cookie,
        "Referer": f"https://{netloc}/",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    try:
        conn.request("POST", path, body=form, headers=headers)
        status = conn.getresponse().status
    finally:
        conn.close()
    after = _lines(database_url, side)
    if status != 302 or after != before + 1:
        raise RuntimeError(f"{side}: POST {path} answered {status}, lines {before} -> {after}")


def _rounds(
    serving: Callable[[str, Path], contextlib.AbstractContextManager[Server]],
    first_start: Callable[[str, Server], None],
    runs: dict[str, dict[str, tuple[str, str]]],
    cookie: str,
    args: argparse.Namespace,
    logs: Path,
) -> dict[str, dict[str, list[Load]]]:
    loads: dict[str, dict[str, list[Load]]] = {page: {side: [] for side in SIDES} for page in runs}
    for round_ in range(args.page_rounds):
        print(f"  peer, round {round_ + 1} of {args.page_rounds}", flush=True)
        # Which shop goes first alternates: neither always finds the machine as the other left it.
        for side in SIDES if round_ % 2 == 0 else SIDES[::-1]:
            with serving(side, logs / f"gunicorn-{side}-{round_}.log") as server:
                if round_ == 0:
                    first_start(side, server)
                for n, (page, paths) in enumerate(runs.items()):
                    path, form = paths[side]
                    sent = {"cookie": cookie if form else "", "form": form}
                    # A server just started: its first load warms it up longer.
                    warmup = args.warmup if n == 0 else 1
                    wrk(server.base_url + path, clients=PAGE_CLIENTS, seconds=warmup, **sent)
                    _drained(server)
                    load = server.load(
                        path, clients=PAGE_CLIENTS, seconds=args.page_seconds, warmup=0, **sent
                    )
                    loads[page][side].append(load)
                    print(f"  {side:5s} {page:7s} {load_line(load)}", flush=True)
                    drained = _drained(server)
                    if drained > 2:
                        print(f"  ({drained:.0f} s until the requests wrk left ended)", flush=True)
    return loads


def _drained(server: Server, *, limit: float = 180) -> float:
    """Seconds until the server's workers spend (almost) no more CPU. wrk stops at its time,
    but the server finishes every request it began: a page slower than the load would otherwise
    still be served during the next load, at its cost."""
    started = time.monotonic()
    spent = sum(cpu_seconds(pid) for pid in server.workers())
    while time.monotonic() - started < limit:
        time.sleep(1)
        now = sum(cpu_seconds(pid) for pid in server.workers())
        if now - spent < 0.05:
            break
        spent = now
    return time.monotonic() - started
