"""What a run starts and stops: a throwaway PostgreSQL database, a Redis of its own, the fake
Stripe, gunicorn as production runs it, and the Django-side steps (bench/django_side.py)."""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://127.0.0.1:5432/postgres"
# Dropped and made again by each run: a clone sharing the PostgreSQL server with others names
# a database of its own, so two benches never drop each other's.
DATABASE = os.environ.get("BENCH_DATABASE_NAME", "kassa_bench")
# What wrk and the buyers send: the production settings expect the TLS proxy's header.
HTTPS = {"X-Forwarded-Proto": "https"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, *, headers: dict[str, str], seconds: float = 30) -> None:
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
def throwaway_database(server_url: str, name: str = DATABASE) -> Iterator[str]:
    parts = urlsplit(server_url)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(drop)


def database_backends(server_url: str, name: str = DATABASE) -> list[int]:
    """The PostgreSQL processes serving connections to the bench's database (or `name`)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [row[0] for row in rows]


@contextlib.contextmanager
def own_redis(logs: Path) -> Iterator[str]:
    """A redis-server of the bench's own on a free port, without persistence ("" if none is
    installed: the shop then paces each process on its own)."""
    binary = shutil.which("redis-server")
    if binary is None:
        print("no redis-server: pacing per process", flush=True)
        yield ""
        return
    port = free_port()
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


@contextlib.contextmanager
def fake_stripe(url: str, latency: float, *, env: dict[str, str], log: Path) -> Iterator[int]:
    """bench/fake_stripe.py at `url` (a port of 127.0.0.1: the shop's environment names it
    before the fake starts), answering after `latency` seconds: its process id, once it answers."""
    command = [sys.executable, "-m", "bench.fake_stripe", "--port", str(urlsplit(url).port)]
    with started([*command, "--latency", str(latency)], env=env, log=log) as pid:
        wait_for(f"{url}/_bench/counts", headers={})
        yield pid


@contextlib.contextmanager
def gunicorn(extra_args: list[str], *, env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """The shop in gunicorn with config/gunicorn.py on a free port: its address and master's
    process id, once /healthz answers."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi"]
    command += ["--config", "config/gunicorn.py", *extra_args]
    with started(command, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, log=log) as master:
        base_url = f"http://127.0.0.1:{port}"
        wait_for(f"{base_url}/healthz", headers=HTTPS)
        yield base_url, master


def shop_env(database_url: str, fake_url: str) -> dict[str, str]:
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
        # The load is a few visitors clicking Buy as fast as they can: measured, not throttled.
        SHOP_THROTTLE="false",
    )
    return env


def manage(*args: str, env: dict[str, str]) -> str:
    """A Python step in the shop's environment (manage.py, bench.django_side): its output."""
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        # What went wrong is on its stderr; without it a failed step says only its exit status.
        sys.stderr.write(done.stderr)
        done.check_returncode()
    return done.stdout


def django_side(*args: str, env: dict[str, str]) -> Any:
    """One of bench/django_side.py's steps: the JSON it prints."""
    return json.loads(manage("-m", "bench.django_side", *args, env=env))


def gunicorn_settings(env: dict[str, str], extra: list[str], workers: int) -> dict[str, Any]:
    """What config/gunicorn.py resolves to in the bench's environment (extra args aside)."""
    names = ("worker_class", "threads", "worker_connections", "keepalive")
    code = "import json, config.gunicorn as g; print(json.dumps({n: g.__dict__[n] for n in %r}))"
    code %= (names,)
    settings: dict[str, Any] = json.loads(manage("-c", code, env=env))
    return {**settings, "workers": workers, "extra_args": extra}


def gunicorn_line(g: dict[str, Any]) -> str:
    extra = f" {' '.join(g['extra_args'])}" if g["extra_args"] else ""
    return (
        f"gunicorn: {g['worker_class']}, {g['workers']} workers × {g['threads']} threads, "
        f"{g['worker_connections']} connections per worker, keepalive {g['keepalive']}s{extra}"
    )
