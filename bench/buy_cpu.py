"""The CPU of one Buy click, in one process: `python -m bench.buy_cpu` (with `--pages`, of the
pages a visitor with a cart or an account sees, beside the same pages for a first visit).

Under load (bench/drive.py) a click's CPU is gunicorn's CPU divided by the clicks, and it moves
with everything else the machine does. Here the shop's WSGI handler is called directly, one
click at a time, by one thread, against the fake Stripe answering at once (in a process of its
own, so its CPU is not counted), beside the trivial view in the same process: the figures are
the process's CPU per request (`time.process_time`), the median of rounds that take turns, and
what takes the time is shown with `--profile` (cProfile's cumulative table of the clicks).

It uses the bench's database and settings (a throwaway database, `<BENCH_DATABASE_NAME>_cpu`),
so a click does what it does in production: a new visitor, a one-line order with its attempt
and reservation, the Checkout Session, the session saved.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.drive import cookie_with_header
from bench.processes import DATABASE, DEFAULT_SERVER, django_side, free_port, manage, shop_env


def _drive(args: argparse.Namespace) -> dict[str, Any]:
    """In the shop's environment (django set up): the rounds, as JSON."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    seed = json.loads(os.environ["BENCH_SEED"])
    item = seed["item"]

    def request(path: str, cookie: str = "") -> tuple[int, list[tuple[str, str]]]:
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_COOKIE": cookie,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "443",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_FORWARDED_PROTO": "https",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        status: list[str] = []
        headers: list[tuple[str, str]] = []

        def start_response(code: str, sent: Any, exc_info: Any = None) -> Any:
            status.append(code)
            headers.extend(sent)
            return lambda data: None

        body = handler(environ, start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return int(status[0].split()[0]), headers

    def cpu_per_request(path: str, cookie: str, n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            code, _ = request(path, cookie)
            if code != 200:
                raise RuntimeError(f"GET {path} answered {code}")
        return (time.process_time() - started) / n * 1000

    # name: (path, cookie, requests per round)
    runs = _pages(seed, request) if args.pages else {"buy": (f"/buy/{item}", "", 1)}
    runs["trivial"] = ("/bench/trivial/", "", 4)
    for _ in range(args.warmup):  # imports, connections, the first copies made
        for path, cookie, _ in runs.values():
            request(path, cookie)
    rounds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, (path, cookie, times) in runs.items():
            rounds[name].append(cpu_per_request(path, cookie, args.clicks * times))
    result: dict[str, Any] = {
        "clicks_per_round": args.clicks,
        "rounds_ms": rounds,
        # Other work on the machine only adds to a round's CPU: the least is the steadiest.
        "medians_ms": {name: statistics.median(times) for name, times in rounds.items()},
        "least_ms": {name: min(times) for name, times in rounds.items()},
    }
    watched = args.watch or ("buy" if not args.pages else "returning_catalog")
    path, cookie, _ = runs[watched]
    if args.queries:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            request(path, cookie)
        result["queries"] = [query["sql"] for query in captured.captured_queries]
    if args.profile:
        # CPU time, not the wall's: the wait for the fake's answer is not the shop's work.
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.clicks):
            request(path, cookie)
        profile.disable()
        if os.environ.get("BENCH_PROFILE_OUT"):
            profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        stats.print_stats(os.environ.get("BENCH_PROFILE_FILTER", ""), args.profile)
        result["profile"] = out.getvalue()
    return result


def _pages(seed: dict[str, Any], request: Any) -> dict[str, tuple[str, str, int]]:
    """The pages bench/drive.py loads, with the cookies a browser would send: the seed's session,
    and the header's cookie the shop sets on the first page (kassa.storefront.personal)."""

    def with_header(cookie: str) -> str:
        _, headers = request("/", cookie)
        return cookie_with_header(cookie, (v for k, v in headers if k.lower() == "set-cookie"))

    item, collection = f"/item/{seed['item']}/", seed["collection"]
    cart, customer = with_header(seed["returning_cookie"]), with_header(seed["customer_cookie"])
    return {
        "catalog": ("/", "", 4),
        "item": (item, "", 4),
        "collection": (collection, "", 4),
        "returning": (item, cart, 4),
        "returning_catalog": ("/", cart, 4),
        "returning_collection": (collection, cart, 4),
        "customer": (item, customer, 4),
        "customer_catalog": ("/", customer, 4),
        "customer_collection": (collection, customer, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clicks", type=int, default=200, help="Buy clicks per round")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--profile", type=int, default=0, help="show this many profile rows")
    parser.add_argument("--queries", action="store_true", help="show the SQL of one click")
    parser.add_argument("--pages", action="store_true", help="the pages, not the Buy click")
    parser.add_argument("--watch", default="", help="the run --profile and --queries show")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER))
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        json.dump(_drive(args), sys.stdout)
        return

    import bench.processes as processes

    processes.DATABASE = f"{DATABASE}_cpu"
    fake_url = f"http://127.0.0.1:{free_port()}"
    logs = Path(tempfile.mkdtemp(prefix="kassa-buy-cpu-"))
    with (
        processes.throwaway_database(args.database) as database_url,
        processes.own_redis(logs) as redis_url,
    ):
        env = shop_env(database_url, fake_url)
        # As bench.run's gunicorn: the pacer in the path through Redis, far above the clicks.
        env.update(REDIS_URL=redis_url, STRIPE_RATE_LIMIT="100000")
        manage("manage.py", "migrate", "--noinput", env=env)
        # The pages name their static files from the manifest, as in production.
        manage("manage.py", "collectstatic", "--noinput", "--verbosity", "0", env=env)
        seed = django_side("seed", env=env)
        with processes.fake_stripe(fake_url, 0.0, env=env, log=logs / "fake.log"):
            drive = [sys.executable, "-m", "bench.buy_cpu", "--drive"]
            drive += ["--rounds", str(args.rounds), "--clicks", str(args.clicks)]
            drive += ["--warmup", str(args.warmup), "--profile", str(args.profile)]
            drive += ["--queries"] if args.queries else []
            drive += ["--pages"] if args.pages else []
            drive += ["--watch", args.watch] if args.watch else []
            passed = {k: v for k, v in os.environ.items() if k.startswith("BENCH_PROFILE_")}
            out = manage(*drive[1:], env={**env, **passed, "BENCH_SEED": json.dumps(seed)})
    result = json.loads(out)
    profile = result.pop("profile", "")
    if profile:
        print(profile)
    for n, query in enumerate(result.pop("queries", []), 1):
        print(f"{n:3d}. {query[:400]}")
    trivial = result["medians_ms"]["trivial"]
    for name, times in result["rounds_ms"].items():
        median = result["medians_ms"][name]
        print(
            f"{name:21s} {median:6.3f} ms of CPU, {result['least_ms'][name]:6.3f} at least "
            f"(rounds {', '.join(f'{x:.2f}' for x in times)}); "
            f"trivial's ÷ this {trivial / median:.2f}"
        )


if __name__ == "__main__":
    main()
