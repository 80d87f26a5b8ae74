"""One measured load: wrk against a path of the running shop, with the CPU time the server,
PostgreSQL, the fake Stripe and the rest of the machine spent on it, and the calls the fake saw."""

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench import machine
from bench.processes import DATABASE, HTTPS, ROOT, database_backends

WRK_SCRIPT = ROOT / "bench" / "wrk_report.lua"
# The most answers of a measured load that may be errors (4xx, 5xx): a run past it stops.
REFUSED_SHARE = 0.005


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


class Server:
    """The running gunicorn: its address, workers, and the PostgreSQL backends serving it (those
    connected to `database`, the bench's unless named)."""

    def __init__(
        self,
        base_url: str,
        master: int,
        database_url: str,
        fake_url: str,
        fake_pid: int,
        database: str = DATABASE,
    ) -> None:
        self.base_url = base_url
        self.master = master
        self.database_url = database_url
        self.fake_url = fake_url
        self.fake_pid = fake_pid
        self.database = database

    def workers(self) -> list[int]:
        return machine.children(self.master)

    def database_backends(self) -> list[int]:
        return database_backends(self.database_url, self.database)

    def load(
        self,
        path: str,
        *,
        clients: int,
        seconds: float,
        warmup: float,
        cookie: str = "",
        form: str = "",
    ) -> Load:
        """`path` under wrk: GET, or with `form` (url-encoded) a POST from a page of the same
        site (a Referer of its own origin, which Django's CSRF check wants over HTTPS)."""
        url = self.base_url + path
        if warmup:
            wrk(url, clients=clients, seconds=warmup, cookie=cookie, form=form)
        workers, backends = self.workers(), self.database_backends()
        before = {pid: machine.cpu_seconds(pid) for pid in [*workers, *backends, self.fake_pid]}
        fake_before = fake_counts(self.fake_url)
        busy_before = machine.machine_busy_seconds()
        wrk_before = machine.children_cpu_seconds()
        result = wrk(url, clients=clients, seconds=seconds, cookie=cookie, form=form)
        busy = machine.machine_busy_seconds() - busy_before
        wrk_cpu = machine.children_cpu_seconds() - wrk_before
        fake_after = fake_counts(self.fake_url)
        fake_cpu = machine.cpu_seconds(self.fake_pid) - before[self.fake_pid]
        # Backends that connected during the run started from zero; one that disconnected took
        # its CPU time with it (CONN_MAX_AGE closes a connection now and then): not counted.
        server_cpu = sum(machine.cpu_seconds(pid) - before.get(pid, 0.0) for pid in workers)
        database_cpu = sum(
            machine.cpu_seconds(pid) - before.get(pid, 0.0) for pid in self.database_backends()
        )
        requests = max(result["requests"], 1)
        errors = result["errors"]
        if errors["status"] > requests * REFUSED_SHARE:
            # Refusals are cheaper than the work: figures over them would flatter the shop.
            raise RuntimeError(
                f"{path} answered {errors['status']} of {requests} requests with an error "
                f"status: {first_refusal(url, cookie=cookie)}"
            )
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
            stripe_calls=sum(diff(fake_after["calls"], fake_before["calls"]).values()),
            stripe_connections=fake_after["connections"] - fake_before["connections"],
            other_cpu_percent=round(
                max(other, 0.0) / (elapsed * len(os.sched_getaffinity(0))) * 100
            ),
        )


def load_line(load: Load) -> str:
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


def wrk(
    url: str, *, clients: int, seconds: float, cookie: str = "", form: str = ""
) -> dict[str, Any]:
    threads = min(2, clients)
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{round(seconds)}s", "--timeout", "10s"]
    # A POST comes from a page of the site: its Referer is the site's own origin over HTTPS.
    referer = f"https://{urlsplit(url).netloc}/" if form else ""
    done = subprocess.run(
        [*command, "--script", str(WRK_SCRIPT), url],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_COOKIE": cookie, "BENCH_FORM": form, "BENCH_REFERER": referer},
    )
    match = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result for {url}:\n{done.stdout}{done.stderr}")
    result: dict[str, Any] = json.loads(match[1])
    return result


def get(url: str, *, cookie: str = "") -> int:
    headers = dict(HTTPS)
    if cookie:
        headers["Cookie"] = cookie
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        status: int = response.status
        return status


def first_refusal(url: str, *, cookie: str = "") -> str:
    """What the server answers `url` now, if it is an error: its status and the start of its
    body, for the message of a run that stops."""
    try:
        return f"answered {get(url, cookie=cookie)} now"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.read()[:300].decode(errors='replace')}"


def fake_counts(fake_url: str) -> dict[str, Any]:
    """{"calls": {"POST /v1/checkout/sessions": n, ...}, "connections": n} so far (and, for
    the flash sale, "busiest_second")."""
    with urllib.request.urlopen(f"{fake_url}/_bench/counts", timeout=5) as response:
        counts: dict[str, Any] = json.load(response)
        return counts


def settled(fake_url: str) -> None:
    """Wait until calls still in flight when wrk stopped have reached the fake."""
    counts = fake_counts(fake_url)["calls"]
    while True:
        time.sleep(1)
        latest = fake_counts(fake_url)["calls"]
        if latest == counts:
            return
        counts = latest


def diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {key: n - before.get(key, 0) for key, n in after.items() if n - before.get(key, 0)}
