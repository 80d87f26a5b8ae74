"""The CPU of one Buy click, in one process: `python -m bench.buy_cpu`.

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

from bench.processes import DATABASE, DEFAULT_SERVER, django_side, free_port, manage, shop_env


def _drive(args: argparse.Namespace) -> dict[str, Any]:
    """In the shop's environment (django set up): the rounds, as JSON."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    item = int(os.environ["BENCH_BUY_ITEM"])

    def request(path: str) -> int:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
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

        def start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return lambda data: None

        body = handler(environ, start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()
        return int(status[0].split()[0])

    def cpu_per_request(path: str, n: int) -> float:
        started = time.process_time()
        for _ in range(n):
            code = request(path)
            if code != 200:
                raise RuntimeError(f"GET {path} answered {code}")
        return (time.process_time() - started) / n * 1000

    buy, trivial = f"/buy/{item}", "/bench/trivial/"
    for _ in range(args.warmup):  # imports, connections, the first copies made
        request(buy)
        request(trivial)
    rounds: dict[str, list[float]] = {"buy": [], "trivial": []}
    for _ in range(args.rounds):
        rounds["trivial"].append(cpu_per_request(trivial, args.clicks * 4))
        rounds["buy"].append(cpu_per_request(buy, args.clicks))
    result: dict[str, Any] = {
        "clicks_per_round": args.clicks,
        "rounds_ms": rounds,
        "buy_ms": statistics.median(rounds["buy"]),
        # Other work on the machine only adds to a round's CPU: the least is the steadiest.
        "buy_least_ms": min(rounds["buy"]),
        "trivial_ms": statistics.median(rounds["trivial"]),
    }
    if args.queries:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            request(buy)
        result["queries"] = [query["sql"] for query in captured.captured_queries]
    if args.profile:
        # CPU time, not the wall's: the wait for the fake's answer is not the shop's work.
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.clicks):
            request(buy)
        profile.disable()
        if os.environ.get("BENCH_PROFILE_OUT"):
            profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        stats.print_stats(os.environ.get("BENCH_PROFILE_FILTER", ""), args.profile)
        result["profile"] = out.getvalue()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clicks", type=int, default=200, help="Buy clicks per round")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--profile", type=int, default=0, help="show this many profile rows")
    parser.add_argument("--queries", action="store_true", help="show the SQL of one click")
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
        seed = django_side("seed", env=env)
        with processes.fake_stripe(fake_url, 0.0, env=env, log=logs / "fake.log"):
            drive = [sys.executable, "-m", "bench.buy_cpu", "--drive"]
            drive += ["--rounds", str(args.rounds), "--clicks", str(args.clicks)]
            drive += ["--warmup", str(args.warmup), "--profile", str(args.profile)]
            drive += ["--queries"] if args.queries else []
            passed = {k: v for k, v in os.environ.items() if k.startswith("BENCH_PROFILE_")}
            out = manage(*drive[1:], env={**env, **passed, "BENCH_BUY_ITEM": str(seed["item"])})
    result = json.loads(out)
    profile = result.pop("profile", "")
    if profile:
        print(profile)
    for n, query in enumerate(result.pop("queries", []), 1):
        print(f"{n:3d}. {query[:400]}")
    rounds = result["rounds_ms"]
    print(
        f"Buy click: {result['buy_ms']:.2f} ms of CPU, {result['buy_least_ms']:.2f} at least "
        f"(rounds {', '.join(f'{x:.2f}' for x in rounds['buy'])}); "
        f"trivial view {result['trivial_ms']:.3f} ms; "
        f"{result['buy_ms'] / result['trivial_ms']:.1f} × trivial"
    )


if __name__ == "__main__":
    main()
