"""Oscar's side of the comparison, seen from the bench: its own virtualenv (made with pip from
requirements.txt), the environment it runs in, its steps (project/oscar_side.py) and its
gunicorn, started with the same worker class, workers, threads, connections and keep-alive as
Kassa's."""

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.processes import DATABASE, HTTPS, ROOT, free_port, started, wait_for

VENV = ROOT / "bench" / ".peer-venv"
REQUIREMENTS = Path(__file__).with_name("requirements.txt")
PROJECT = Path(__file__).with_name("project")
# Made and dropped by each run beside the bench's own database.
DATABASE_NAME = f"{DATABASE}_oscar"
TRIVIAL = "/bench/trivial/"


def python() -> Path:
    """The virtualenv's Python: made on first use, and made again when requirements.txt changes
    (the file's text is kept beside it once pip has installed it)."""
    interpreter = VENV / "bin" / "python"
    stamp = VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if stamp.exists() and stamp.read_text() == wanted:
        return interpreter
    print(f"installing django-oscar into {VENV.relative_to(ROOT)} (pip, once)...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    install = [str(interpreter), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)]
    # Once more on failure, as `make install` does: a download cut short should not end a run.
    if subprocess.run(install).returncode:
        subprocess.run(install, check=True)
    stamp.write_text(wanted)
    return interpreter


def installed(interpreter: Path) -> dict[str, Any]:
    """Oscar's version and every package pip put in the virtualenv, for the results."""
    freeze = subprocess.run(
        [str(interpreter), "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    ).stdout.split()
    versions = {line.split("==")[0].lower(): line.split("==")[-1] for line in freeze}
    return {
        "django-oscar": versions.get("django-oscar", "?"),
        "django": versions.get("django", "?"),
        "packages": freeze,
    }


def environment(database_url: str, redis_url: str, work: Path) -> dict[str, str]:
    """The peer's settings (project/peer_shop/settings.py) read all they need from here; like
    Kassa's, a container's small environment rather than the developer's shell."""
    keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    # A Redis database of its own on the bench's Redis (Kassa's is 0).
    redis = redis_url.rsplit("/", 1)[0] + "/1" if redis_url else ""
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(PROJECT),
        DJANGO_SETTINGS_MODULE="peer_shop.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        OSCAR_DATABASE_URL=database_url,
        OSCAR_REDIS_URL=redis,
        OSCAR_WHOOSH_PATH=str(work / "whoosh"),
        OSCAR_STATIC_ROOT=str(work / "static"),
        OSCAR_MEDIA_ROOT=str(work / "media"),
    )
    return env


def run(interpreter: Path, *args: str, env: dict[str, str]) -> str:
    """A Python step in the peer's virtualenv and environment: its output."""
    done = subprocess.run(
        [str(interpreter), *args], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        done.check_returncode()
    return done.stdout


def step(interpreter: Path, *args: str, env: dict[str, str]) -> Any:
    """One of project/oscar_side.py's steps: the JSON it prints."""
    return json.loads(run(interpreter, "oscar_side.py", *args, env=env))


@contextmanager
def gunicorn(
    interpreter: Path, like: dict[str, Any], *, env: dict[str, str], log: Path
) -> Iterator[tuple[str, int]]:
    """The peer in gunicorn on a free port, configured `like` Kassa's (bench.processes
    gunicorn_settings, with the same extra arguments): its address and master's process id,
    once the trivial view answers."""
    port = free_port()
    command = [str(interpreter.parent / "gunicorn"), "peer_shop.wsgi"]
    command += ["--bind", f"127.0.0.1:{port}", "--worker-class", str(like["worker_class"])]
    command += ["--workers", str(like["workers"]), "--threads", str(like["threads"])]
    command += ["--worker-connections", str(like["worker_connections"])]
    command += ["--keep-alive", str(like["keepalive"]), "--timeout", "60"]
    command += ["--access-logfile", "-", "--chdir", str(PROJECT), "--no-control-socket"]
    command += like["extra_args"]
    with started(command, env=env, log=log) as master:
        base_url = f"http://127.0.0.1:{port}"
        wait_for(f"{base_url}{TRIVIAL}", headers=HTTPS, seconds=60)
        yield base_url, master
