"""Slow clients: what gunicorn as configured can bound on its own, and the compose proxy
(docker/nginx.conf, run by Debian's nginx) that takes them off gunicorn's hands.

A half-sent request is a client that connects and sends part of its request line, then
nothing: gunicorn's threaded worker gives it a thread as soon as its first bytes arrive.
"""

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.gunicorn_server import Server, database, free_port, gunicorn
from tests.production_env import ROOT

pytestmark = pytest.mark.db_independent

WORKERS, THREADS = 2, 4
HALF_A_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"
TOKEN = "metrics-token-for-the-proxy-test"
CLICKS = 3  # a client address's Buy clicks an hour, in this shop


def _nginx() -> str:
    found = shutil.which("nginx")
    if found is None:
        subprocess.run(
            ["bash", "scripts/apt_install.sh", "nginx", "for the proxy's tests"],
            cwd=ROOT,
            check=True,
            timeout=600,
        )
        found = shutil.which("nginx")
    assert found, "nginx is needed for the proxy's tests"
    return found


@contextmanager
def half_sent_requests(
    port: int, count: int, head: bytes = HALF_A_REQUEST
) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        clients = []
        for _ in range(count):
            client = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            client.sendall(head)
            clients.append(client)
        yield clients


def healthz_seconds(base: str, *, timeout: float) -> float:
    started = time.monotonic()
    response = requests.get(f"{base}/healthz", timeout=timeout)
    assert response.json() == {"status": "ok", "database": "ok"}
    return time.monotonic() - started


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("slow-clients")
    url = database(folder)
    with gunicorn(
        folder,
        DATABASE_URL=url,
        WEB_CONCURRENCY=str(WORKERS),
        GUNICORN_THREADS=str(THREADS),
        METRICS_TOKEN=TOKEN,
        # As behind the compose proxy: X-Forwarded-* come from it.
        DJANGO_BEHIND_HTTPS_PROXY="true",
        SHOP_TRUSTED_PROXIES="127.0.0.1",
        SHOP_THROTTLE_BUY_PER_ADDRESS=f"{CLICKS}/h",
    ) as server:
        # Every worker up (each has loaded the app before it takes a connection).
        deadline = time.monotonic() + 60
        while server.logs().count("Booting worker") < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        yield server


# --- gunicorn alone ----------------------------------------------------------------------------


def test_gunicorn_drops_a_half_sent_request_after_its_read_timeout(shop: Server) -> None:
    """As many half-sent requests as gunicorn has threads: they take every thread (a request
    waits while they hang), and gunicorn drops them after CLIENT_READ_TIMEOUT_SECONDS (5 s)
    rather than never. Closing each, gunicorn then lingers up to 2 s on the worker's main loop
    for the client to close its side (RFC 9112's graceful close, not configurable), accepting
    nothing meanwhile: a few stalled clients cost 5 + 2 s per client and worker. Bounded, not
    harmless; clients opening new ones as fast still take the shop down, which is why gunicorn
    must sit behind the proxy (below)."""
    with half_sent_requests(shop.port, WORKERS * THREADS) as clients:
        time.sleep(0.5)
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            requests.get(f"{shop.base}/healthz", timeout=1)  # every thread is held
        # It answers (within its 60 s: the half-sent requests were dropped, not kept), and not
        # before their read timeout let go of a thread.
        healthz_seconds(shop.base, timeout=60)
        waited = time.monotonic() - started
        assert waited > 4
        for client in clients:
            client.settimeout(5)
            assert client.recv(100) == b""  # closed by gunicorn, unanswered
    logs = shop.logs()
    assert logs.count("dropped a client that sent nothing for 5s") >= WORKERS * THREADS
    assert "BlockingIOError" not in logs  # one line each, no traceback


# --- behind the proxy --------------------------------------------------------------------------


@dataclass
class Proxy:
    base: str
    log: Path


@pytest.fixture(scope="module")
def proxy(shop: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """docker/nginx.conf as compose runs it, listening on a free port of 127.0.0.1 and proxying
    to the gunicorn above instead of Docker's `web`."""
    nginx = _nginx()
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    for compose_value, test_value in (
        ("listen 8080;", f"listen 127.0.0.1:{port};"),
        ("set $kassa_web http://web:8000;", f"set $kassa_web http://127.0.0.1:{shop.port};"),
    ):
        assert conf.count(compose_value) == 1
        conf = conf.replace(compose_value, test_value)
    (prefix / "nginx.conf").write_text(conf)
    log = prefix / "nginx.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield Proxy(base, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_proxy_config_is_valid_for_nginx(tmp_path: Path) -> None:
    shutil.copy(ROOT / "docker" / "nginx.conf", tmp_path / "nginx.conf")
    result = subprocess.run(
        [_nginx(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def logs_once(shop: Server | Proxy, done: Callable[[str], bool], *, seconds: float = 3) -> str:
    """gunicorn's (or nginx's) log once `done(log)` holds, or after `seconds`: each writes a
    request's access line just after sending the answer, so a test reading the log at once can
    miss the last."""
    read = shop.logs if isinstance(shop, Server) else shop.log.read_text
    deadline = time.monotonic() + seconds
    while not done(text := read()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return text


def test_behind_the_proxy_half_sent_requests_hold_no_thread(shop: Server, proxy: Proxy) -> None:
    """Many more half-sent requests than gunicorn has threads, at the proxy: nginx holds them
    itself, and /healthz through it answers at once, again and again."""
    # The half-sent requests ask for a path of their own, so the shop's log tells whether any
    # reached it, whatever lines earlier tests' abandoned requests still add.
    half_sent = b"GET /never-finished HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow"
    with half_sent_requests(int(proxy.base.rsplit(":", 1)[1]), 25 * WORKERS * THREADS, half_sent):
        time.sleep(0.5)
        # Each answered within its 5 s, less than gunicorn's read timeout: none waited for a
        # thread a half-sent request held.
        for _ in range(10):
            healthz_seconds(proxy.base, timeout=5)
    # And gunicorn answered none of them: nginx holds a request until its headers are in.
    logs = logs_once(shop, lambda text: "/never-finished" in text, seconds=3)
    assert "/never-finished" not in logs


def test_the_proxy_passes_what_the_shop_needs_and_keeps_metrics_inside(
    shop: Server, proxy: Proxy
) -> None:
    answer = requests.get(
        f"{proxy.base}/healthz",
        headers={"X-Request-ID": "through-the-proxy-1", "X-Forwarded-Proto": "https"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.headers["X-Request-ID"] == "through-the-proxy-1"
    proxied = logs_once(proxy, lambda text: "request_id=through-the-proxy-1" in text)
    assert "request_id=through-the-proxy-1" in proxied
    logs = logs_once(shop, lambda text: "request_id=through-the-proxy-1" in text)
    assert "request_id=through-the-proxy-1" in logs  # one id across both logs
    made_up = requests.get(f"{proxy.base}/healthz", timeout=5).headers["X-Request-ID"]
    assert len(made_up) == 32  # nginx's $request_id, passed on

    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for path in ("/metrics", "/metrics/", "//metrics", "/%6Detrics"):
        refused = requests.get(f"{proxy.base}{path}", headers=bearer, timeout=5)
        assert refused.status_code == 404, path
        assert "kassa_" not in refused.text
    assert requests.get(f"{shop.base}/metrics", headers=bearer, timeout=5).status_code == 200
    assert answer.headers.get("Server") == "nginx"  # server_tokens off: no version told


def test_behind_the_proxy_each_customer_is_their_own_address(shop: Server, proxy: Proxy) -> None:
    """The TLS proxy in front (a peer nginx believes) names each customer; nginx passes that
    address on alone, and the shop, trusting nginx, counts each customer apart: one customer's
    Buy clicks past the limit do not refuse another's. (No item: each click is counted, then
    answered 404.)"""

    def buy(customer: str, claims: str = "") -> int:
        forwarded = f"{claims}, {customer}" if claims else customer
        return requests.get(
            f"{proxy.base}/buy/999999", headers={"X-Forwarded-For": forwarded}, timeout=10
        ).status_code

    first = [buy("203.0.113.10") for _ in range(CLICKS + 1)]
    # Addresses the customer makes up before the one the TLS proxy added count for nothing.
    made_up = [buy("203.0.113.10", claims=f"192.0.2.{n}") for n in range(2)]
    other = buy("203.0.113.11")

    assert first == [404] * CLICKS + [429]
    assert made_up == [429, 429]
    assert other == 404
