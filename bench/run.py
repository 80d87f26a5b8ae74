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
6. stops everything, drops the database, prints the tables and writes them as JSON to
   bench/results/<UTC time>.json.

The shop runs with a Redis of the bench's own (a redis-server on a free port) and the pacer in
the path at a rate far above the load; the /buy rows are also run, in the same rounds, on a
second gunicorn with pacing off, to show what the pacer costs. Both have as many Stripe threads
(STRIPE_CONCURRENCY) as threads: the rows measure the pacer, not the bulkhead.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench import flash_sale

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WRK_SCRIPT = ROOT / "bench" / "wrk_report.lua"
DEFAULT_SERVER = "postgres://127.0.0.1:5432/postgres"
# Dropped and made again by each run: a clone sharing the PostgreSQL server with others names
# a database of its own, so two benches never drop each other's.
DATABASE = os.environ.get("BENCH_DATABASE_NAME", "kassa_bench")
PAGE_CLIENTS = 16
BUY_CLIENTS = (16, 32, 64)
LARGE_CATALOG = 10_000
TARGETS = {"item_page": 0.7, "buy_32_of_ideal": 0.8, "buy_64_of_ceiling": 0.7}
# The search the page runs make: a Russian plural, found by its stem in a few of every hundred
# items (bench/django_side.py names them).
SEARCH_WORDS = "кружки"
BEFORE_PACING = "neither (as before pacing)"


@dataclass
class Load:
    """One wrk run: throughput, latency percentiles, and the server's CPU per request."""

    path: str
    clients: int
    seconds: float
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_ms: float  # gunicorn workers' CPU time per request
    database_cpu_ms: float  # PostgreSQL backends' CPU time per request
    stripe_calls: int  # reaching the fake during the run
    stripe_connections: int  # opened to the fake during the run (reused ones are not new)
    # Share of the machine's CPU time used by anything but the server, PostgreSQL, the fake and
    # wrk during the run (other jobs, the kernel): a high figure discounts the run.
    other_cpu_percent: float


# --- the machine ------------------------------------------------------------------------------


def machine(database_url: str) -> dict[str, Any]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError):
        meminfo = Path("/proc/meminfo").read_text()
        mem_kib = int(re.search(r"MemTotal:\s+(\d+)", meminfo)[1])  # type: ignore[index]
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    pg_version = row[0] if row else "?"
    git = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpu": cpu_model,
        "cores": len(os.sched_getaffinity(0)),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg_version,
        "wrk": _wrk_version(),
        "load_average_before": os.getloadavg()[0],
        "python_loop_ms": _python_loop_ms(),
        "git": git,
    }


def _python_loop_ms() -> float:
    """How fast this machine runs Python, to compare runs on different machines: the best of
    five timings of a million-step loop (virtual machines of the same name differ severalfold)."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for n in range(1_000_000):
            total += n
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def _wrk_version() -> str:
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    match = re.search(r"wrk (\S+)", out.stdout + out.stderr)
    return match[1] if match else "?"


# --- processes --------------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _machine_busy_seconds() -> float:
    """CPU time all cores have spent not idle since boot (/proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICK


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    found.append(int(entry.name))
    return found


def _peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return round(int(match[1]) / 1024, 1) if match else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, *, headers: dict[str, str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def started(command: list[str], *, env: dict[str, str], log: Path) -> Iterator[int]:
    """A child process in its own process group, stopped (TERM, then KILL) on the way out."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    parts = urlsplit(server_url)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    try:
        yield urlunsplit(parts._replace(path=f"/{DATABASE}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(drop)


@contextlib.contextmanager
def own_redis(logs: Path) -> Iterator[str]:
    """A redis-server of the bench's own on a free port, without persistence ("" if none is
    installed: the shop then paces each process on its own)."""
    binary = shutil.which("redis-server")
    if binary is None:
        print("no redis-server: pacing per process", flush=True)
        yield ""
        return
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    command += ["no", "--dir", str(logs)]
    with started(command, env=dict(os.environ), log=logs / "redis.log"):
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"


# --- load -------------------------------------------------------------------------------------


class Server:
    """The running gunicorn: its address, workers, and the PostgreSQL backends serving it."""

    def __init__(
        self, base_url: str, master: int, database_url: str, fake_url: str, fake_pid: int
    ) -> None:
        self.base_url = base_url
        self.master = master
        self.database_url = database_url
        self.fake_url = fake_url
        self.fake_pid = fake_pid

    def workers(self) -> list[int]:
        return _children(self.master)

    def database_backends(self) -> list[int]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [DATABASE],
            ).fetchall()
        return [row[0] for row in rows]

    def load(
        self, path: str, *, clients: int, seconds: float, warmup: float, cookie: str = ""
    ) -> Load:
        url = self.base_url + path
        if warmup:
            _wrk(url, clients=clients, seconds=warmup, cookie=cookie)
        workers, backends = self.workers(), self.database_backends()
        before = {pid: _cpu_seconds(pid) for pid in [*workers, *backends, self.fake_pid]}
        fake_before = _fake_counts(self.fake_url)
        busy_before, wrk_before = _machine_busy_seconds(), _children_cpu_seconds()
        result = _wrk(url, clients=clients, seconds=seconds, cookie=cookie)
        busy = _machine_busy_seconds() - busy_before
        wrk_cpu = _children_cpu_seconds() - wrk_before
        fake_after = _fake_counts(self.fake_url)
        fake_cpu = _cpu_seconds(self.fake_pid) - before[self.fake_pid]
        # Backends that connected during the run started from zero; one that disconnected took
        # its CPU time with it (CONN_MAX_AGE closes a connection now and then): not counted.
        server_cpu = sum(_cpu_seconds(pid) - before.get(pid, 0.0) for pid in workers)
        database_cpu = sum(
            _cpu_seconds(pid) - before.get(pid, 0.0) for pid in self.database_backends()
        )
        requests = max(result["requests"], 1)
        errors = result["errors"]
        elapsed = result["duration_us"] / 1e6
        other = busy - server_cpu - database_cpu - wrk_cpu - fake_cpu
        return Load(
            path=path,
            clients=clients,
            seconds=round(result["duration_us"] / 1e6, 2),
            requests=result["requests"],
            per_second=round(result["requests"] / (result["duration_us"] / 1e6), 1),
            p50_ms=round(result["p50_us"] / 1000, 1),
            p99_ms=round(result["p99_us"] / 1000, 1),
            errors=sum(errors.values()),
            server_cpu_ms=round(server_cpu / requests * 1000, 2),
            database_cpu_ms=round(database_cpu / requests * 1000, 2),
            stripe_calls=sum(_diff(fake_after["calls"], fake_before["calls"]).values()),
            stripe_connections=fake_after["connections"] - fake_before["connections"],
            other_cpu_percent=round(
                max(other, 0.0) / (elapsed * len(os.sched_getaffinity(0))) * 100
            ),
        )


def _wrk(url: str, *, clients: int, seconds: float, cookie: str = "") -> dict[str, Any]:
    threads = min(2, clients)
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{round(seconds)}s", "--timeout", "10s"]
    done = subprocess.run(
        [*command, "--script", str(WRK_SCRIPT), url],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_COOKIE": cookie},
    )
    match = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result for {url}:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(match[1])
    return result


def _children_cpu_seconds() -> float:
    """CPU time of this process's finished children (the wrk runs)."""
    times = os.times()
    return times.children_user + times.children_system


def _get(url: str, *, cookie: str = "") -> int:
    headers = {"X-Forwarded-Proto": "https"}
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        status: int = response.status
        return status


def _fake_counts(fake_url: str) -> dict[str, Any]:
    """{"calls": {"POST /v1/checkout/sessions": n, ...}, "connections": n} so far."""
    with urllib.request.urlopen(f"{fake_url}/_bench/counts", timeout=5) as response:
        counts: dict[str, Any] = json.load(response)
        return counts


def _settled(fake_url: str) -> None:
    """Wait until calls still in flight when wrk stopped have reached the fake."""
    counts = _fake_counts(fake_url)["calls"]
    while True:
        time.sleep(1)
        latest = _fake_counts(fake_url)["calls"]
        if latest == counts:
            return
        counts = latest


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: n - before.get(key, 0) for key, n in after.items() if n - before.get(key, 0)}


# --- the run ----------------------------------------------------------------------------------


def _env(database_url: str, fake_url: str, bind: str) -> dict[str, str]:
    """A container's environment: the settings and little else, not the developer's shell
    (whose proxy variables, say, would send the fake Stripe's calls elsewhere)."""
    keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "WEB_CONCURRENCY", "GUNICORN_THREADS")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env.update(
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="config.settings_bench",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DEBUG="false",
        # docker/production.env: HTTPS only, behind a TLS proxy (wrk sends its header).
        DJANGO_HTTPS="true",
        DJANGO_BEHIND_HTTPS_PROXY="true",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        STRIPE_API_KEY="sk_test_bench",
        STRIPE_PUBLISHABLE_KEY="pk_test_bench",
        STRIPE_WEBHOOK_SECRET="whsec_bench",
        STRIPE_API_BASE=fake_url,
        GUNICORN_BIND=bind,
        # The load is a few visitors clicking Buy as fast as they can: measured, not throttled.
        SHOP_THROTTLE="false",
    )
    return env


def _manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        # What went wrong is on its stderr; without it a failed step says only its exit status.
        sys.stderr.write(done.stderr)
        done.check_returncode()
    return done.stdout


def run(args: argparse.Namespace) -> dict[str, Any]:
    server_url = args.database or DEFAULT_SERVER
    info = machine(server_url)
    print(_machine_line(info), flush=True)
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
    fake_port, web_port = _free_port(), _free_port()
    fake_url, base_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{web_port}"
    threads = os.environ.get("GUNICORN_THREADS", "16")
    with throwaway_database(server_url) as database_url, own_redis(logs) as redis_url:
        env = _env(database_url, fake_url, f"127.0.0.1:{web_port}")
        print("migrating the bench database, counting queries, seeding...", flush=True)
        _manage("manage.py", "migrate", "--noinput", env=env)
        _manage("manage.py", "collectstatic", "--noinput", "--verbosity", "0", env=env)
        results["queries"] = json.loads(_manage("-m", "bench.django_side", "queries", env=env))
        seed = json.loads(_manage("-m", "bench.django_side", "seed", env=env))
        fake = [sys.executable, "-m", "bench.fake_stripe", "--port", str(fake_port)]
        # The pacer in the path, shared through Redis, at a rate far above the load, with as
        # many Stripe threads as threads: the rows measure the pacer, not the bulkhead.
        paced = {"REDIS_URL": redis_url, "STRIPE_RATE_LIMIT": "100000"}
        paced["STRIPE_CONCURRENCY"] = threads
        with started(
            [*fake, "--latency", str(args.latency)], env=env, log=logs / "fake.log"
        ) as fake_pid:
            _wait_for(f"{fake_url}/_bench/counts", headers={})
            # One gunicorn at a time: each holds a database connection per busy thread, and two
            # would pass PostgreSQL's 100.
            with started(
                _gunicorn_command(args), env={**env, **paced}, log=logs / "gunicorn.log"
            ) as master:
                _wait_for(f"{base_url}/healthz", headers={"X-Forwarded-Proto": "https"})
                server = Server(base_url, master, server_url, fake_url, fake_pid)
                results["gunicorn"] = _gunicorn_settings(
                    env, args.gunicorn_arg, len(server.workers())
                )
                print(_gunicorn_line(results["gunicorn"]), flush=True)
                results.update(_drive(server, seed, args, env))
                if args.only != "flash":
                    results["stripe_calls"] = _stripe_calls(base_url, fake_url, seed)
                    results["memory_mib"] = {
                        "workers_peak_rss": [_peak_rss_mib(pid) for pid in server.workers()],
                        "master_peak_rss": _peak_rss_mib(master),
                    }
            if args.only in (None, "buy"):
                results["pacer"] = _pacer_rounds(
                    args, env, logs, server_url, fake_url, fake_pid, seed["item"], paced
                )
            results["flash_sale"] = [
                _flash_sale(args, env, logs, fake_url, label, overrides)
                for label, overrides in (
                    ("paced (Redis)", {"REDIS_URL": redis_url}),
                    ("pacing off (429s retried)", {"STRIPE_RATE_LIMIT": "0"}),
                    # As the shop was before it paced: no pace, a 429 an error at once, no
                    # bulkhead, a Buy button that shows the error.
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


PACER_CLIENTS = 64  # where the CPU is the limit, so any cost of the pacer would show


def _pacer_rounds(
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
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            run_env = {**env, **overrides, "GUNICORN_BIND": f"127.0.0.1:{port}"}
            log = logs / f"gunicorn-{name}-{round_}.log"
            with started(_gunicorn_command(args), env=run_env, log=log) as master:
                _wait_for(f"{base}/healthz", headers={"X-Forwarded-Proto": "https"})
                server = Server(base, master, server_url, fake_url, fake_pid)
                load = server.load(
                    f"/buy/{item}",
                    clients=PACER_CLIENTS,
                    seconds=args.buy_seconds,
                    warmup=args.warmup,
                )
            row[name].append(load)
            print(f"  {name:11s} {_load_line(load)}", flush=True)
    return row


def _gunicorn_command(args: argparse.Namespace) -> list[str]:
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi"]
    return [*gunicorn, "--config", "config/gunicorn.py", *args.gunicorn_arg]


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
    item = json.loads(_manage("-m", "bench.django_side", "flash_item", env=env))["item"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    name = re.sub(r"\W+", "-", label)
    sale_env = {**env, **overrides, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with started(_gunicorn_command(args), env=sale_env, log=logs / f"gunicorn-{name}.log"):
        _wait_for(f"{base}/healthz", headers={"X-Forwarded-Proto": "https"})
        _get(f"{base}/item/{item}/")  # a warm shop: the item page rendered, connections open
        _settled(fake_url)
        flash_sale.set_limit(fake_url, flash_sale.STRIPE_LIMIT)
        before = flash_sale.fake_counts(fake_url)
        buyers = flash_sale.buyers_at_once(f"{base}/buy/{item}", follow_busy=label != BEFORE_PACING)
        _settled(fake_url)
        after = flash_sale.fake_counts(fake_url)
        flash_sale.set_limit(fake_url, 0)
    stripe = {**_diff(after["calls"], before["calls"]), "busiest_second": after["busiest_second"]}
    orders = json.loads(_manage("-m", "bench.django_side", "flash_orders", str(item), env=env))
    row = flash_sale.summary(label, buyers, stripe, orders)
    print(f"  flash sale, {_flash_line(row)}", flush=True)
    return row


def _gunicorn_settings(env: dict[str, str], extra: list[str], workers: int) -> dict[str, Any]:
    """What config/gunicorn.py resolves to in the bench's environment (extra args aside)."""
    names = ("worker_class", "threads", "worker_connections", "keepalive")
    code = "import json, config.gunicorn as g; print(json.dumps({n: g.__dict__[n] for n in %r}))"
    code %= (names,)
    settings: dict[str, Any] = json.loads(_manage("-c", code, env=env))
    return {**settings, "workers": workers, "extra_args": extra}


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
            print(f"  {name:9s} {_load_line(load)}", flush=True)
    return pages


def _drive(
    server: Server,
    seed: dict[str, Any],
    args: argparse.Namespace,
    env: dict[str, str],
) -> dict[str, Any]:
    item = seed["item"]
    search = f"/?q={quote(SEARCH_WORDS)}"
    # name: (path, cookie); "returning" is the item page for a visitor with cookies and a cart.
    page_runs = {
        "trivial": ("/bench/trivial/", ""),
        "catalog": ("/", ""),
        "item": (f"/item/{item}/", ""),
        "returning": (f"/item/{item}/", seed["returning_cookie"]),
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
                print(f"  {name:11s} {_load_line(load)}", flush=True)
        buy.append(row)
    pages_large: dict[str, list[Load]] = {}
    if args.only not in ("buy", "flash"):
        # The same pages in a catalog of LARGE_CATALOG items (after the Buy runs, which stay
        # comparable with earlier runs'), and a page deep into it.
        grown = json.loads(_manage("-m", "bench.django_side", "grow", env=env))
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


def _stripe_calls(base_url: str, fake_url: str, seed: dict[str, Any]) -> list[dict[str, int]]:
    """Stripe calls made by each checkout of an order with a discount and a tax: the first one
    also makes the coupon and the tax rate, every later one only the Checkout Session."""
    calls = []
    _settled(fake_url)
    for order in seed["checkout_orders"]:
        before = _fake_counts(fake_url)["calls"]
        status = _get(
            f"{base_url}/orders/{order['id']}/buy/", cookie=f"sessionid={order['session']}"
        )
        assert status == 200, status
        calls.append(_diff(_fake_counts(fake_url)["calls"], before))
    return calls


# --- output -----------------------------------------------------------------------------------


def _machine_line(info: dict[str, Any]) -> str:
    return (
        f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, "
        f"{info['os']}, Python {info['python']}, PostgreSQL {info['postgresql']}, "
        f"wrk {info['wrk']}; a million-step Python loop {info['python_loop_ms']} ms; "
        f"load average {info['load_average_before']:.2f} at start; "
        f"code {info['git']}"
    )


def _gunicorn_line(g: dict[str, Any]) -> str:
    extra = f" {' '.join(g['extra_args'])}" if g["extra_args"] else ""
    return (
        f"gunicorn: {g['worker_class']}, {g['workers']} workers × {g['threads']} threads, "
        f"{g['worker_connections']} connections per worker, keepalive {g['keepalive']}s{extra}"
    )


def _load_line(load: Load) -> str:
    return (
        f"{load.path:22s} {load.clients:3d} clients {load.per_second:8.1f}/s "
        f"p50 {load.p50_ms:7.1f} ms p99 {load.p99_ms:7.1f} ms errors {load.errors} "
        f"server CPU {load.server_cpu_ms:.2f} ms/req, database {load.database_cpu_ms:.2f}, "
        f"others {load.other_cpu_percent:.0f}% of the machine"
        + (
            f"; Stripe: {load.stripe_calls} calls, {load.stripe_connections} new connections"
            if load.stripe_calls
            else ""
        )
    )


def _others_line(loads: list[Load]) -> str:
    shares = [float(load.other_cpu_percent) for load in loads]
    return (
        f"CPU taken by other jobs during the runs: {_median(shares):.0f}% of the "
        f"machine (median), {max(shares):.0f}% at most"
    )


def _errors_line(loads: list[Load]) -> str:
    """Failed requests (connection errors, timeouts, non-2xx answers) count in wrk's req/s."""
    failed = [f"{load.errors} in {load.path} at {load.clients}" for load in loads if load.errors]
    return "failed requests: " + ("; ".join(failed) if failed else "none")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _listed(ratios: list[float]) -> str:
    return ", ".join(f"{r:.2f}" for r in ratios)


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _page_rows(pages: dict[str, list[Load]], rows: list[tuple[str, str, str]]) -> list[str]:
    out = []
    for name, label, target in rows:
        runs = pages.get(name)
        if not runs:
            continue
        ratios = [
            run.per_second / t.per_second for run, t in zip(runs, pages["trivial"], strict=True)
        ]
        ratio = _median(ratios)
        check = f"{target} {_mark(ratio >= TARGETS['item_page'])}" if target else ""
        out.append(
            f"| {label} | {_median([r.per_second for r in runs]):.0f} "
            f"| {_median([r.p50_ms for r in runs]):.1f} ms "
            f"| {_median([r.p99_ms for r in runs]):.1f} ms "
            f"| {ratio:.2f} ({_listed(ratios)}) | {check} |"
        )
    return out


def tables(results: dict[str, Any]) -> str:
    """The results as Markdown tables (the README's Performance section shows one run)."""
    pages, buy = results["pages"], results["buy"]
    out = [
        _machine_line(results["machine"]),
        _gunicorn_line(results["gunicorn"])
        + f"; fake Stripe latency {results['latency_s'] * 1000:.0f} ms",
        _others_line(
            loads := [
                *(load for runs in pages.values() for load in runs),
                *(load for runs in (results.get("pages_large") or {}).values() for load in runs),
                *(
                    load
                    for row in [*buy, results.get("pacer") or {}]
                    for k in ("buy", "one_call", "buy_unpaced")
                    for load in row.get(k, [])
                ),
            ]
        ),
        _errors_line(loads),
        "",
        f"| page ({PAGE_CLIENTS} clients; medians of {len(pages['trivial'])} rounds) | req/s "
        "| p50 | p99 | × trivial view: median of the rounds' ratios (each round's) | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    rows = [
        ("trivial", "trivial view (no DB, no template)", ""),
        ("catalog", "catalog `/`, first visit", ""),
        ("item", "item page `/item/<id>/`, first visit", f"≥ {TARGETS['item_page']}"),
        ("returning", "item page, returning visitor with a cart", ""),
        ("search", f"search `/?q={SEARCH_WORDS}`, first visit", ""),
    ]
    out += _page_rows(pages, rows)
    large = results.get("pages_large") or {}
    if large:
        out += [
            "",
            f"| at {LARGE_CATALOG} items ({PAGE_CLIENTS} clients; medians of "
            f"{len(large['trivial'])} rounds) | req/s | p50 | p99 | × trivial view: median of "
            "the rounds' ratios (each round's) | target |",
            "|---|---:|---:|---:|---:|---|",
        ]
        out += _page_rows(
            large,
            [
                ("trivial", "trivial view (no DB, no template)", ""),
                ("catalog", "catalog `/`, first visit", ""),
                ("deep", "catalog page 200 `/?page=200`, first visit", ""),
                ("search", f"search `/?q={SEARCH_WORDS}`, first visit", ""),
                ("item", "item page `/item/<id>/`, first visit", f"≥ {TARGETS['item_page']}"),
            ],
        )
    rounds = len(buy[0]["buy"]) if buy else 0
    out += [
        "",
        f"| clients (medians of {rounds} rounds) | ideal (clients / latency) "
        "| `/buy/<id>` checkouts/s | p50 | p99 | × ideal (each round's) "
        "| one-call view/s | p50 | p99 | `/buy` × one-call: median of the rounds' ratios "
        "(each round's) | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in buy:
        b, c = row["buy"], row["one_call"]
        of_ideals = [run.per_second / row["ideal_per_second"] for run in b]
        of_ceilings = [run.per_second / one.per_second for run, one in zip(b, c, strict=True)]
        of_ideal, of_ceiling = _median(of_ideals), _median(of_ceilings)
        target = ""
        ideal_target, ceiling_target = TARGETS["buy_32_of_ideal"], TARGETS["buy_64_of_ceiling"]
        if row["clients"] == 32:
            target = f"× ideal ≥ {ideal_target} {_mark(of_ideal >= ideal_target)}"
        if row["clients"] == 64:
            target = f"× one-call ≥ {ceiling_target} {_mark(of_ceiling >= ceiling_target)}"
        out.append(
            f"| {row['clients']} | {row['ideal_per_second']:.0f}/s "
            f"| {_median([r.per_second for r in b]):.1f} "
            f"| {_median([r.p50_ms for r in b]):.0f} ms | {_median([r.p99_ms for r in b]):.0f} ms "
            f"| {of_ideal:.2f} ({_listed(of_ideals)}) | {_median([r.per_second for r in c]):.1f} "
            f"| {_median([r.p50_ms for r in c]):.0f} ms | {_median([r.p99_ms for r in c]):.0f} ms "
            f"| {of_ceiling:.2f} ({_listed(of_ceilings)}) | {target} |"
        )
    out += _pacer_rows([results["pacer"]] if results.get("pacer") else [])
    out += ["", *flash_table(results.get("flash_sale") or [])]
    queries = results["queries"]
    out += ["", "| SQL queries per request | small | large | constant |", "|---|---:|---:|---|"]
    for page, sizes in queries.items():
        counts = {count for _label, count in sizes}
        out.append(
            f"| {page} | {sizes[0][1]} ({sizes[0][0]}) "
            f"| {' / '.join(f'{count} ({label})' for label, count in sizes[1:])} "
            f"| {_mark(len(counts) == 1)} |"
        )
    first, *later = results["stripe_calls"]
    later_total = [sum(calls.values()) for calls in later]
    out += [
        "",
        "| Stripe API calls per checkout (order with a discount and a tax) | calls |",
        "|---|---:|",
        f"| first checkout (makes the coupon and the tax rate once) | {sum(first.values())} |",
        f"| every later checkout | {', '.join(map(str, later_total))} "
        f"{_mark(all(n == 1 for n in later_total))} |",
    ]
    memory = results["memory_mib"]
    out += [
        "",
        "| memory | peak RSS |",
        "|---|---:|",
        *(
            f"| gunicorn worker {n + 1} | {rss:.0f} MiB |"
            for n, rss in enumerate(memory["workers_peak_rss"])
        ),
        f"| gunicorn master | {memory['master_peak_rss']:.0f} MiB |",
    ]
    return "\n".join(out)


def _pacer_rows(buy: list[dict[str, Any]]) -> list[str]:
    """The /buy rows with the pacer in the path (through Redis, far above the load) beside the
    same shop without it, round by round."""
    rows = [row for row in buy if row.get("buy_unpaced")]
    if not rows:
        return []
    out = [
        "",
        f"| clients (medians of {len(rows[0]['buy'])} rounds) | `/buy` with the pacer "
        "(Redis) /s | p50 | p99 | without it /s | p50 | p99 | with ÷ without: median "
        "(each round's) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        on, off = row["buy"], row["buy_unpaced"]
        ratios = [a.per_second / b.per_second for a, b in zip(on, off, strict=True)]
        out.append(
            f"| {row['clients']} | {_median([r.per_second for r in on]):.1f} "
            f"| {_median([r.p50_ms for r in on]):.0f} ms "
            f"| {_median([r.p99_ms for r in on]):.0f} ms "
            f"| {_median([r.per_second for r in off]):.1f} "
            f"| {_median([r.p50_ms for r in off]):.0f} ms "
            f"| {_median([r.p99_ms for r in off]):.0f} ms "
            f"| {_median(ratios):.2f} ({_listed(ratios)}) |"
        )
    return out


def _flash_line(row: dict[str, Any]) -> str:
    return (
        f"{row['label']}: {row['started']} checkouts started, {row['sold_out']} sold out, "
        f"{row['errors']} errors {row['error_statuses']}, {row['busy_followed']} busy answers "
        f"followed, Stripe {row['stripe_429s']} 429s / {row['stripe_sessions']} sessions, "
        f"busiest second {row['stripe_busiest_second']}, wait p50 {row['wait_p50_s']} s "
        f"p99 {row['wait_p99_s']} s max {row['wait_max_s']} s; orders {row['orders']}"
    )


def flash_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    stock = rows[0]["orders"].get("oversold")
    out = [
        f"| flash sale: {rows[0]['buyers']} buyers at once, Stripe limited to "
        f"{flash_sale.STRIPE_LIMIT}/s | checkouts started | sold out (409) | customer errors "
        "| busy answers followed | Stripe's 429s | Stripe's busiest second | wait p50 | p99 "
        "| oversold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        oversold = row["orders"].get("oversold")
        out.append(
            f"| {row['label']} | {row['started']} | {row['sold_out']} "
            f"| {row['errors']}{' ' + str(row['error_statuses']) if row['errors'] else ''} "
            f"| {row['busy_followed']} | {row['stripe_429s']} | {row['stripe_busiest_second']} "
            f"| {row['wait_p50_s']:.1f} s | {row['wait_p99_s']:.1f} s "
            f"| {'no stock yet' if stock is None and oversold is None else oversold} |"
        )
    return out


def _json_ready(results: dict[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, Load):
            return asdict(value)
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    converted: dict[str, Any] = convert(results)
    return converted


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
    parser.add_argument("--only", choices=["pages", "buy", "flash"], help="one part (experiments)")
    parser.add_argument(
        "--gunicorn-arg", action="append", default=[], help="extra gunicorn argument (experiments)"
    )
    args = parser.parse_args()
    # `kill` stops the bench like Ctrl-C does: the servers stopped, the database dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        sys.exit("make bench needs wrk: run scripts/ensure_wrk.sh (or apt-get install wrk)")
    started_at = datetime.now(UTC)
    results = run(args)
    results["started_at"] = started_at.isoformat(timespec="seconds")
    # An experiment (--only) has no table, but its runs are kept like a full one's.
    text = "" if args.only else tables(results)
    if args.only == "flash":
        text = "\n".join(flash_table(results["flash_sale"]))
    print()
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-only-{args.only}" if args.only else ""
    path = RESULTS / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}{suffix}.json"
    path.write_text(json.dumps({**_json_ready(results), "table": text}, indent=2) + "\n")
    print(f"\nwritten to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
