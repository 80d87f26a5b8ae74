"""DJANGO_SECRET_KEY rotated: what the old key signed stays valid while it is listed in
DJANGO_SECRET_KEY_FALLBACKS, and only then (docs/operations.md)."""

import subprocess

from django.core import signing

from tests.production_env import ROOT, VENV_BIN, command_env

OLD = "old-key-" + "r7Tq2-Wm4Kx9-Lp3Zn8-Vb6Hc1-Jd5Fg0" * 2
NEW = "new-key-" + "s8Ur3-Xn5Ly0-Mq4Ao9-Wc7Id2-Ke6Gh1" * 2


def _reads(token: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(VENV_BIN / "python"),
            "manage.py",
            "shell",
            "-c",
            f"from django.core import signing; print('read', signing.loads({token!r}))",
        ],
        cwd=ROOT,
        env=command_env(DJANGO_SECRET_KEY=NEW, **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_old_key_is_accepted_while_it_is_a_fallback() -> None:
    token = signing.dumps("a cancel link", key=OLD)

    kept = _reads(token, DJANGO_SECRET_KEY_FALLBACKS=f"unrelated,{OLD}")
    assert kept.returncode == 0, kept.stderr
    assert "read a cancel link" in kept.stdout

    dropped = _reads(token)
    assert dropped.returncode != 0
    assert "BadSignature" in dropped.stderr
