"""The container's start script, docker/entrypoint.sh, run on the host as the container runs it.

It runs in a copy of the image's tree (what .dockerignore lets into the build, plus collectstatic
as the Dockerfile runs it), with the documented production settings, against a throwaway
PostgreSQL database, and sees nothing of the developer's .env.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from psycopg import sql

from tests.postgres import require_server, throwaway_database
from tests.production_env import ROOT, SECRET_KEY, command_env

pytestmark = pytest.mark.db_independent

HOST = "shop.example.com"
ADMIN_PASSWORD = "entrypoint-admin-Pa55word"
ADMIN = {
    "DJANGO_SUPERUSER_USERNAME": "admin",
    "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
    "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
}
UNREACHABLE_DB = "postgres://kassa@127.0.0.1:1/kassa"  # nothing listens on port 1


@pytest.fixture(scope="module")
def image_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files `COPY`'d into the image, with static files collected as the Dockerfile does."""
    tree = tmp_path_factory.mktemp("image") / "app"
    tree.mkdir()
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        if not line.startswith("!"):
            continue
        name = line[1:].strip().rstrip("/")
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / name)
    subprocess.run(
        ["python", "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=tree,
        env=command_env(DJANGO_SECRET_KEY="collectstatic-at-build-time-only"),
        check=True,
        timeout=300,
    )
    assert (tree / "staticfiles" / "staticfiles.json").exists()
    return tree


@pytest.fixture
def database_url() -> Iterator[str]:
    with throwaway_database(f"kassa_entrypoint_test_{os.getpid()}") as url:
        yield url


def run_start_script(tree: Path, *args: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tree / "docker" / "entrypoint.sh"), *args],
        cwd="/",  # the script finds its tree itself
        env=command_env(**env),
        capture_output=True,
        text=True,
        timeout=180,
    )


# --- Refusing to start -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "kassa: DJANGO_SECRET_KEY is not set."),
        ("ALLOWED_HOSTS", "kassa: ALLOWED_HOSTS is not set."),
    ],
)
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_refuses_to_start_without_secret_key_or_allowed_hosts(
    image_tree: Path, missing: str, message: str, how: str
) -> None:
    result = run_start_script(
        image_tree, DATABASE_URL=UNREACHABLE_DB, **{missing: None if how == "unset" else ""}
    )
    assert result.returncode == 78, result.stderr
    assert message in result.stderr
    assert "Waiting for the database" not in result.stdout  # stopped before touching anything


def test_debug_mode_starts_without_secret_key_or_allowed_hosts(
    image_tree: Path, tmp_path: Path
) -> None:
    result = run_start_script(
        image_tree,
        "python",
        "-c",
        "print('app server would start here')",
        DJANGO_DEBUG="true",
        DJANGO_SECRET_KEY=None,
        ALLOWED_HOSTS=None,
        DATABASE_URL=f"sqlite:///{tmp_path / 'debug.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert "app server would start here" in result.stdout


def test_gives_up_on_an_unreachable_database_with_a_clear_message(image_tree: Path) -> None:
    result = run_start_script(image_tree, DATABASE_URL=UNREACHABLE_DB, DATABASE_WAIT_SECONDS="2")
    assert result.returncode != 0
    assert "The database is unreachable after 2s" in result.stderr
    assert "Waiting for the database..." in result.stdout
    assert "Traceback" not in result.stderr


# --- Migrate, admin, then the app server -------------------------------------------------------


def _applied_apps(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {app for (app,) in conn.execute("SELECT DISTINCT app FROM django_migrations")}


def _admins(url: str) -> list[tuple[str, bool]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT username, is_superuser FROM auth_user").fetchall()
    return [(username, superuser) for username, superuser in rows]


@pytest.mark.postgres
def test_migrates_creates_the_admin_once_then_execs_the_command(
    image_tree: Path, database_url: str
) -> None:
    command = ["python", "-c", "import os; print('app server pid', os.getpid())"]
    env = command_env(DATABASE_URL=database_url, **ADMIN)
    entrypoint = str(image_tree / "docker" / "entrypoint.sh")

    first = subprocess.Popen(
        [entrypoint, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    assert "Applying catalog.0001_initial" in out
    assert "Created admin user 'admin'." in out
    # exec: the command replaced the script's process instead of running as its child.
    assert f"app server pid {first.pid}" in out
    assert {"auth", "sessions", "catalog", "orders"} <= _applied_apps(database_url)
    assert _admins(database_url) == [("admin", True)]

    second = run_start_script(image_tree, *command, DATABASE_URL=database_url, **ADMIN)
    assert second.returncode == 0, second.stderr
    assert "No migrations to apply." in second.stdout
    assert "Admin user 'admin' already exists." in second.stdout
    assert _admins(database_url) == [("admin", True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the start script exited ({server.returncode}):\n{logs.read_text()}")
        try:
            if requests.get(f"{base}/healthz", headers={"Host": HOST}, timeout=2).ok:
                return
        # Listening, but a worker still loading the app on a busy machine: not healthy yet.
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)
    pytest.fail(f"/healthz never answered:\n{logs.read_text()}")


def _csp(response: requests.Response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


@pytest.mark.postgres
def test_gunicorn_serves_the_shop_in_production_mode_and_stops_on_sigterm(
    image_tree: Path, database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    https = {"Host": HOST, "X-Forwarded-Proto": "https"}  # as the TLS proxy forwards requests
    env = command_env(
        DATABASE_URL=database_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="4",
        **ADMIN,
    )
    out_log, err_log = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out_log.open("wb") as out, err_log.open("wb") as err:
        server = subprocess.Popen(
            [str(image_tree / "docker" / "entrypoint.sh")], env=env, stdout=out, stderr=err
        )
    try:
        _wait_until_healthy(base, server, err_log)
        # exec: the script's process is now gunicorn's master, so SIGTERM reaches gunicorn.
        assert b"gunicorn" in Path(f"/proc/{server.pid}/cmdline").read_bytes()

        health = requests.get(f"{base}/healthz", headers={"Host": HOST}, timeout=5)
        assert health.status_code == 200  # plain HTTP, not redirected: the probe's way in
        assert health.json() == {"status": "ok", "database": "ok"}
        probe = subprocess.run(
            ["python", "docker/healthcheck.py"], cwd=image_tree, env=env, timeout=30
        )
        assert probe.returncode == 0

        page = requests.get(f"{base}/", headers=https, timeout=5)
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "same-origin"
        assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])
        csp = _csp(page)
        assert csp["script-src"] == ["'self'", "https://js.stripe.com"]
        assert csp["connect-src"] == ["'self'", "https://api.stripe.com"]
        stylesheet = re.search(r'href="(/static/kassa/kassa\.[0-9a-f]+\.css)"', page.text)
        assert stylesheet, "the page links the collected, hashed stylesheet"
        assert requests.get(f"{base}{stylesheet[1]}", headers=https, timeout=5).status_code == 200
        # 500.html links the unhashed name, so it renders even without the manifest.
        assert requests.get(f"{base}/static/kassa/kassa.css", headers=https, timeout=5).ok

        plain = requests.get(f"{base}/", headers={"Host": HOST}, allow_redirects=False, timeout=5)
        assert plain.status_code == 301
        assert plain.headers["Location"] == f"https://{HOST}/"
        assert requests.get(f"{base}/", headers={"Host": "evil.test"}, timeout=5).status_code == 400

        missing = requests.get(
            f"{base}/no-such-page/", headers={**https, "X-Request-ID": "entrypoint-404"}, timeout=5
        )
        assert missing.status_code == 404
        assert "There is nothing at this address." in missing.text  # the shop's page, no debug
        assert missing.headers["X-Request-ID"] == "entrypoint-404"

        # The admin that the start script created logs in; the cookies are Secure and HttpOnly.
        login_url = f"{base}/admin/login/"
        form = requests.get(login_url, headers=https, timeout=5)
        csrf_cookie = form.headers["Set-Cookie"]
        assert "Secure" in csrf_cookie
        assert "HttpOnly" in csrf_cookie
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token
        login = requests.post(
            login_url,
            headers={
                **https,
                "Origin": f"https://{HOST}",
                "Cookie": f"csrftoken={form.cookies['csrftoken']}",
            },
            data={
                "csrfmiddlewaretoken": token[1],
                "username": "admin",
                "password": ADMIN_PASSWORD,
                "next": "/admin/",
            },
            allow_redirects=False,
            timeout=5,
        )
        assert login.status_code == 302, login.text[:500]
        session_cookie = next(
            c for c in login.raw.headers.getlist("Set-Cookie") if "sessionid" in c
        )
        assert "Secure" in session_cookie
        assert "HttpOnly" in session_cookie

        # The database goes away: the health check says so, and the probe fails.
        name = urlsplit(database_url).path.lstrip("/")
        with psycopg.connect(require_server(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        down = requests.get(f"{base}/healthz", headers={"Host": HOST}, timeout=10)
        assert down.status_code == 503
        assert down.json() == {"status": "error", "database": "unreachable"}
        probe = subprocess.run(
            ["python", "docker/healthcheck.py"], cwd=image_tree, env=env, timeout=30
        )
        assert probe.returncode == 1

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    stdout, stderr = out_log.read_text(), err_log.read_text()
    assert "Handling signal: term" in stderr
    assert "Shutting down: Master" in stderr
    # One line per event, tagged with the request id: gunicorn's access line and Django's own.
    assert re.search(r'"GET /no-such-page/" 404 .* request_id=entrypoint-404$', stdout, re.M)
    assert re.search(r"WARNING django\.request request_id=entrypoint-404 Not Found", stderr)
    for secret in (SECRET_KEY, ADMIN_PASSWORD):
        assert secret not in stdout + stderr


def _manage_shell(tree: Path, database_url: str, code: str) -> str:
    done = subprocess.run(
        ["python", "manage.py", "shell", "--no-imports", "-c", code],
        cwd=tree,
        env=command_env(DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.postgres
def test_an_item_edit_retires_the_shared_pages_of_every_worker_process(
    image_tree: Path, database_url: str, tmp_path: Path
) -> None:
    """Each gunicorn process keeps its own copies of the catalog's pages; an edit made by another
    process (here `manage.py shell`, as the admin would in whichever worker serves it) must
    reach them all through the revision in the database."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    https = {"Host": HOST, "X-Forwarded-Proto": "https"}
    env = command_env(
        DATABASE_URL=database_url,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="2",
        CATALOG_PAGE_REFRESH_SECONDS="0",
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(image_tree / "docker" / "entrypoint.sh")], env=env, stdout=out, stderr=out
        )
    try:
        _wait_until_healthy(base, server, log)
        pk = _manage_shell(
            image_tree,
            database_url,
            "from kassa.catalog.models import Item; "
            "print(Item.objects.create(name='Kettle', price='10.00', currency='usd').pk)",
        )

        def pages() -> list[str]:
            # No keep-alive: each request is a new connection, taken by whichever worker is free.
            return [
                requests.get(f"{base}{path}", headers=https, timeout=10).text
                for _ in range(15)
                for path in (f"/item/{pk}/", "/")
            ]

        assert all("Kettle" in page and "$10.00" in page for page in pages())
        _manage_shell(
            image_tree,
            database_url,
            f"from kassa.catalog.models import Item; item = Item.objects.get(pk={pk}); "
            "item.name = 'Teapot'; item.price = '12.50'; item.save()",
        )
        after = pages()
        assert [page for page in after if "Kettle" in page or "$10.00" in page] == []
        assert all("Teapot" in page and "$12.50" in page for page in after)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)
