"""The shop served by gunicorn with config/gunicorn.py, as `make run` and the container serve
it, on a throwaway SQLite database, for tests that need real processes and real sockets."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.production_env import ROOT, VENV_BIN, command_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base: str
    port: int
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def logs(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


def database(folder: Path, **env: str) -> str:
    """A migrated SQLite database in `folder`, its URL."""
    url = f"sqlite:///{folder / 'shop.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=command_env(DATABASE_URL=url, **env),
        check=True,
        timeout=180,
    )
    return url


def manage(database_url: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=command_env(DATABASE_URL=database_url),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout


@contextmanager
def gunicorn(folder: Path, **env: str) -> Iterator[Server]:
    """gunicorn as configured, plain HTTP on 127.0.0.1 (DJANGO_HTTPS off: no TLS proxy here)."""
    port = free_port()
    settings = {
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "false",
        "DJANGO_BEHIND_HTTPS_PROXY": "false",
        **env,
    }
    stdout, stderr = folder / "gunicorn.out", folder / "gunicorn.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.py"],
            cwd=ROOT,
            env=command_env(**settings),
            stdout=out,
            stderr=err,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, stdout, stderr)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"gunicorn exited ({server.process.returncode}):\n{server.logs()}")
        try:
            if requests.get(f"{server.base}/healthz", timeout=2).ok:
                return
        # Listening, but a worker still loading the app on a busy machine: not healthy yet.
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)
    raise AssertionError(f"/healthz never answered:\n{server.logs()}")
