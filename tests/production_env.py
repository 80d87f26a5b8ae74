"""The documented production settings (docker/production.env) and a clean environment to run the
shop's commands in, for tests that start it the way a server does."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# Long and varied enough for check --deploy; never a real key.
SECRET_KEY = "tests-only-" + "k7Qx2-Vb9Lm4-Np8Rs1-Tw6Yz3-Hd5Jf0-Gc" * 2


def production_env() -> dict[str, str]:
    values = {}
    for raw in (ROOT / "docker" / "production.env").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def command_env(**overrides: str | None) -> dict[str, str]:
    """A minimal environment (not the test run's: no DJANGO_SETTINGS_MODULE, no host secrets) with
    the production settings, a secret key and the venv's programs first on PATH; an override of
    None removes a variable."""
    env: dict[str, str | None] = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME"),
        "LANG": "C.UTF-8",
        **production_env(),
        "DJANGO_SECRET_KEY": SECRET_KEY,
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}
