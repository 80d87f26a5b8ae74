"""`make bench`: the shop under load, started as production starts it, against a fake Stripe.

What it does, in order:
1. creates a throwaway PostgreSQL database (kassa_bench), migrates it, counts SQL queries per page
   in-process (bench/django_side.py), then seeds the catalog and orders the load needs;
2. starts the fake Stripe (bench/fake_stripe.py, with --latency, default 0.3 s) and gunicorn with
   config/gunicorn.py, DEBUG off, the production security settings and a container's small
   environment, with config.settings_bench (the shop's URLs plus two yardsticks);
3. drives load with wrk (a separate process): the catalog and item pages beside a trivial view,
   in rounds that take turns (a busy neighbour on a virtual machine slows all pages of a round
   alike, so each round's ratios stand), then GET /buy/<id> at 16, 32 and 64 clients beside a
   view making one Stripe call, in rounds too;
4. counts Stripe calls for checkouts of an order with a discount and a tax, reads each worker's
   peak memory;
5. the flash sale (bench/flash_sale.py): the fake enforcing Stripe's test-mode limit with 429s,
   200 buyers at once, with the shop pacing itself through Redis and then without pacing;
6. with --orders N: the admin's pages timed at 1,000 orders and at N (bench/admin_rows.py, on
   two databases kept between runs);
7. stops everything, drops the database, prints the tables and writes them as JSON to
   bench/results/<UTC time>.json.

With --peer oscar a run is only the comparison with django-oscar (bench/peer_oscar/compare.py):
Oscar in a virtualenv of its own (bench/.peer-venv, made with pip on first use), the same 10,000
products in both shops, and the trivial view, the catalog, a product page and an add to the
basket on each in rounds that take turns; its results go to <UTC time>-only-peer-oscar.json.

The shop runs with a Redis of the bench's own (a redis-server on a free port) and the pacer in
the path at a rate far above the load; the /buy rows are also run, in the same rounds, on a
second gunicorn with pacing off, to show what the pacer costs. Both have as many Stripe threads
(STRIPE_CONCURRENCY) as threads: the rows measure the pacer, not the bulkhead.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import admin_rows, drive, report
from bench.load import Server
from bench.machine import machine, machine_line, peak_rss_mib
from bench.peer_oscar import compare
from bench.peer_oscar import report as peer_report
from bench.processes import (
    DATABASE,
    DEFAULT_SERVER,
    ROOT,
    django_side,
    fake_stripe,
    free_port,
    gunicorn,
    gunicorn_line,
    gunicorn_settings,
    manage,
    own_redis,
    shop_env,
    throwaway_database,
)


def run(args: argparse.Namespace) -> dict[str, Any]:
    server_url = args.database or DEFAULT_SERVER
    info = machine(server_url)
    print(machine_line(info), flush=True)
    results: dict[str, Any] = {"machine": info, "latency_s": args.latency}
    logs = Path(tempfile.mkdtemp(prefix="kassa-bench-"))
    try:
        _run(args, server_url, logs, results)
    except BaseException:
        print(f"bench failed; the fake's and gunicorn's output are in {logs}", file=sys.stderr)
        raise
    shutil.rmtree(logs, ignore_errors=True)
    return results


def _run(args: argparse.Namespace, server_url: str, logs: Path, results: dict[str, Any]) -> None:
    if args.peer:
        results["peer"] = compare.run(args, server_url, logs)
        return
    fake_url = f"http://127.0.0.1:{free_port()}"
    if args.only == "admin":
        results["admin"] = admin_rows.run(args, server_url, fake_url, logs)
        return
    threads = os.environ.get("GUNICORN_THREADS", "16")
    with throwaway_database(server_url) as database_url, own_redis(logs) as redis_url:
        env = shop_env(database_url, fake_url)
        print("migrating the bench database, counting queries, seeding...", flush=True)
        manage("manage.py", "migrate", "--noinput", env=env)
        manage("manage.py", "collectstatic", "--noinput", "--verbosity", "0", env=env)
        results["queries"] = django_side("queries", env=env)
        results["import_csv"] = django_side("import_csv", env=env)
        seed = django_side("seed", env=env)
        # The pacer in the path, shared through Redis, at a rate far above the load, with as
        # many Stripe threads as threads: the rows measure the pacer, not the bulkhead.
        paced = {"REDIS_URL": redis_url, "STRIPE_RATE_LIMIT": "100000"}
        paced["STRIPE_CONCURRENCY"] = threads
        with fake_stripe(fake_url, args.latency, env=env, log=logs / "fake.log") as fake_pid:
            # One gunicorn at a time: each holds a database connection per busy thread, and two
            # would pass PostgreSQL's 100.
            with gunicorn(args.gunicorn_arg, env={**env, **paced}, log=logs / "gunicorn.log") as (
                base_url,
                master,
            ):
                server = Server(base_url, master, server_url, fake_url, fake_pid)
                results["gunicorn"] = gunicorn_settings(
                    env, args.gunicorn_arg, len(server.workers())
                )
                print(gunicorn_line(results["gunicorn"]), flush=True)
                results.update(drive.shop(server, seed, args, env))
                if args.only != "flash":
                    results["stripe_calls"] = drive.stripe_calls(base_url, fake_url, seed)
                    results["memory_mib"] = {
                        "workers_peak_rss": [peak_rss_mib(pid) for pid in server.workers()],
                        "master_peak_rss": peak_rss_mib(master),
                    }
            if args.only in (None, "buy"):
                results["pacer"] = drive.pacer_rounds(
                    args, env, logs, server_url, fake_url, fake_pid, seed["item"], paced
                )
            if args.only in (None, "flash"):
                results["flash_sale"] = drive.flash_sales(
                    args, env, logs, fake_url, redis_url, threads
                )
    if args.orders and args.only is None:
        results["admin"] = admin_rows.run(args, server_url, fake_url, logs)


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("at least one round")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--latency", type=float, default=0.3, help="fake Stripe latency, seconds")
    parser.add_argument("--page-seconds", type=int, default=4, help="each page run")
    parser.add_argument(
        "--page-rounds", type=_at_least_one, default=5, help="rounds of the page runs"
    )
    parser.add_argument("--buy-seconds", type=int, default=8, help="each /buy and one-call run")
    parser.add_argument(
        "--buy-rounds", type=_at_least_one, default=3, help="rounds of the /buy runs"
    )
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured run before each")
    parser.add_argument(
        "--database",
        default=os.environ.get("BENCH_DATABASE_URL", ""),
        help=f"PostgreSQL server to make {DATABASE} on ($BENCH_DATABASE_NAME) (default "
        f"$BENCH_DATABASE_URL or {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--only", choices=["pages", "buy", "flash", "admin"], help="one part (experiments)"
    )
    parser.add_argument(
        "--orders",
        type=_at_least_one,
        help=f"also time the admin's pages at this many orders against {admin_rows.SMALL_ORDERS}",
    )
    parser.add_argument(
        "--orders-database",
        default=f"{DATABASE}_orders",
        help="the database kept with the --orders fixture (<name>_1000 beside it)",
    )
    parser.add_argument(
        "--admin-rounds", type=_at_least_one, default=5, help="rounds of the admin pages"
    )
    parser.add_argument(
        "--gunicorn-arg", action="append", default=[], help="extra gunicorn argument (experiments)"
    )
    parser.add_argument(
        "--peer",
        choices=["oscar"],
        help="only the comparison with a peer shop (a part of its own; the page options apply)",
    )
    args = parser.parse_args()
    # `kill` stops the bench like Ctrl-C does: the servers stopped, the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.only == "admin" and not args.orders:
        parser.error("--only admin needs --orders")
    if args.peer and (args.only or args.orders):
        parser.error("--peer is a part of its own: no --only, no --orders")
    if shutil.which("wrk") is None:
        sys.exit("make bench needs wrk: run scripts/ensure_wrk.sh (or apt-get install wrk)")
    started_at = datetime.now(UTC)
    results = run(args)
    results["started_at"] = started_at.isoformat(timespec="seconds")
    # An experiment (--only) has no table, but its runs are kept like a full one's.
    part = f"peer-{args.peer}" if args.peer else args.only
    text = "" if part else report.tables(results)
    if args.only == "pages":
        text = "\n".join(report.page_tables(results))
    if args.only == "flash":
        text = "\n".join(report.flash_table(results["flash_sale"]))
    if args.only == "admin":
        text = "\n".join(report.admin_table(results["admin"]))
    if args.peer:
        text = "\n".join([machine_line(results["machine"]), *peer_report.table(results["peer"])])
    print()
    print(text)
    path = report.write(results, text, started_at, part)
    print(f"\nwritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
