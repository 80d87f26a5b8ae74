"""`cp .env.example .env && make run`, as the README says: the first-run steps that read .env
accept the file as it comes."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_empty_secret_key_line_is_filled_in(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", env_file)

    result = _run("scripts/ensure_local_secret.py", str(env_file), env={"PATH": "/usr/bin:/bin"})

    assert result.returncode == 0, result.stderr
    lines = env_file.read_text().splitlines()
    [key_line] = [line for line in lines if line.startswith("DJANGO_SECRET_KEY=")]
    assert len(key_line.removeprefix("DJANGO_SECRET_KEY=")) >= 50
    example = (ROOT / ".env.example").read_text().splitlines()
    assert [line for line in lines if line != key_line] == [
        line for line in example if not line.startswith("DJANGO_SECRET_KEY=")
    ]
    # Run again: the key stays.
    _run("scripts/ensure_local_secret.py", str(env_file), env={"PATH": "/usr/bin:/bin"})
    assert key_line in env_file.read_text().splitlines()


def _assignments(text: str) -> dict[str, str]:
    found = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found


def test_the_settings_and_the_admin_step_accept_the_example_as_it_is(tmp_path: Path) -> None:
    values = _assignments((ROOT / ".env.example").read_text())
    # ensure_superuser refuses a username without a password: the example sets neither.
    if values.get("DJANGO_SUPERUSER_USERNAME"):
        assert values.get("DJANGO_SUPERUSER_PASSWORD")
    env = {**values, "PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "from-ensure-local-secret"}
    code = "import config.settings as s; print(s.SHOP_DEMO_PAYMENTS, s.DEBUG)"

    result = _run("-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]  # no keys yet: demo payments
