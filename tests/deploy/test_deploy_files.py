"""The container files say what the deployment promises: a pinned, non-root, multi-stage image
with a health check; compose waiting for a healthy PostgreSQL; hadolint has nothing to say."""

import importlib.util
import re
import stat
import subprocess
import tomllib
from types import ModuleType

import pytest
import yaml

from tests.production_env import ROOT, VENV_BIN

pytestmark = pytest.mark.db_independent

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_runtime_dependencies_are_pinned() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert dependencies
    for requirement in dependencies:
        assert re.fullmatch(r"[A-Za-z0-9._-]+(\[[a-z,]+\])?==[0-9][0-9A-Za-z.]*", requirement)


def test_dockerfile_is_multi_stage_slim_non_root_with_a_health_check() -> None:
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.M) == ["python:3.11-slim"] * 2
    assert "COPY --from=build /opt/venv /opt/venv" in DOCKERFILE
    assert "[dev]" not in DOCKERFILE
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")
    assert re.search(r"^RUN .*manage\.py collectstatic", DOCKERFILE, re.M)
    assert 'CMD ["python", "docker/healthcheck.py"]' in DOCKERFILE
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in DOCKERFILE
    assert "GUNICORN_BIND=0.0.0.0:8000" in DOCKERFILE


def test_dockerfile_is_hadolint_clean() -> None:
    result = subprocess.run(
        [str(VENV_BIN / "hadolint"), "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_start_script_is_executable_and_execs_gunicorn() -> None:
    script = ROOT / "docker" / "entrypoint.sh"
    assert script.stat().st_mode & stat.S_IXUSR
    lines = [line for line in script.read_text().splitlines() if line.strip()]
    assert lines[-1] == "exec gunicorn config.wsgi --config config/gunicorn.py"


def test_build_context_leaves_out_secrets_and_local_state() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"  # everything out, then only what the image needs back in
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    assert {"manage.py", "config", "kassa", "templates", "static", "docker"} <= allowed
    assert not allowed & {".env", "db.sqlite3", ".venv", ".git", "staticfiles", "tests"}


def test_compose_runs_web_on_a_healthy_postgres_and_redis() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    web, db, redis = (compose["services"][name] for name in ("web", "db", "redis"))

    assert web["build"] == "."
    assert web["env_file"] == ".env"
    assert web["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert re.fullmatch(r"postgres://kassa:\S+@db:5432/kassa", web["environment"]["DATABASE_URL"])
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    # The customer's address is the one the proxy names, from wherever Docker puts the proxy.
    trusted = web["environment"]["SHOP_TRUSTED_PROXIES"]
    assert all(r in trusted for r in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
    # Longer than gunicorn's graceful_timeout, so in-flight requests finish on `docker stop`.
    assert int(web["stop_grace_period"].rstrip("s")) > 20

    assert db["image"] == "postgres:17"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume, _, path = db["volumes"][0].partition(":")
    assert path == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]

    assert re.fullmatch(r"redis:\d+\.\d+", redis["image"])
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in redis  # reached by the replicas only


def _default(value: str) -> int:
    """The number in a compose value `${NAME:-N}`."""
    found = re.fullmatch(r"\$\{\w+:-(\d+)\}", value)
    assert found, value
    return int(found.group(1))


def test_three_replicas_fit_postgresqls_default_connections() -> None:
    """Each thread of each process of each replica holds a connection (CONN_MAX_AGE keeps it),
    and PostgreSQL allows 100, 3 of them kept for superusers: `--scale web=3` must leave room
    for the mail worker, the cron jobs and a shell."""
    web = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["web"]
    per_replica = _default(web["environment"]["WEB_CONCURRENCY"]) * _default(
        web["environment"]["GUNICORN_THREADS"]
    )
    worker, cron_and_shell = 1, 5
    assert 3 * per_replica + worker + cron_and_shell <= 100 - 3


def test_compose_scales_web_behind_the_proxy() -> None:
    """`docker compose up --scale web=3`: nothing in `web` may be one per host (a published
    port, a container name), and only the proxy is published, to gunicorn's port inside."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    web, proxy = compose["services"]["web"], compose["services"]["proxy"]
    assert "ports" not in web
    assert "container_name" not in web
    assert web["expose"] == ["8000"]

    assert re.fullmatch(r"nginx:\d+\.\d+", proxy["image"])
    assert proxy["volumes"] == ["./docker/nginx.conf:/etc/nginx/nginx.conf:ro"]
    assert [str(port).rsplit(":", 1)[1] for port in proxy["ports"]] == ["8080"]
    assert proxy["ports"][0].startswith("${KASSA_PUBLISH:-127.0.0.1:8000}")
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}}
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    assert "listen 8080;" in conf
    assert "set $kassa_web http://web:8000;" in conf


def test_compose_file_and_proxy_config_pass_the_deploy_checker() -> None:
    result = subprocess.run(
        ["bash", "scripts/check_compose.sh"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "compose.yaml is valid" in result.stdout
    assert "docker/nginx.conf is valid (nginx -t" in result.stdout


def _healthcheck_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "docker" / "healthcheck.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [
        ("shop.example.com,www.example.com", "shop.example.com"),
        (".example.com", "example.com"),
        ("*,shop.example.com", "shop.example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_health_probe_asks_with_a_host_the_shop_accepts(
    monkeypatch: pytest.MonkeyPatch, allowed_hosts: str, host: str
) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", allowed_hosts)
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:8000")
    healthcheck = _healthcheck_module()
    assert healthcheck.probe_host() == host
    assert healthcheck.probe_url() == "http://127.0.0.1:8000/healthz"
