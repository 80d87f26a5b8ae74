"""SHOP_STAFF_REFUND_LIMIT as settings.py reads it from the environment."""

import json
import subprocess
import sys

import pytest

from tests.production_env import ROOT, command_env

READ = (
    "import django; django.setup(); import json; from django.conf import settings; "
    "print(json.dumps(settings.SHOP_STAFF_REFUND_LIMIT))"
)


def read(value: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", READ],
        cwd=ROOT,
        env=command_env(DJANGO_SETTINGS_MODULE="config.settings", SHOP_STAFF_REFUND_LIMIT=value),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("value", "limits"),
    [
        (None, {}),
        ("", {}),
        ("50 USD, 45.50 EUR,7000 JPY", {"usd": "50", "eur": "45.50", "jpy": "7000"}),
    ],
)
def test_the_limit_is_read_per_currency(value: str | None, limits: dict[str, str]) -> None:
    done = read(value)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == limits


@pytest.mark.parametrize("value", ["50", "USD 50", "-1 USD", "fifty USD", "50 DOLLARS"])
def test_a_limit_the_shop_cannot_read_stops_it_naming_the_setting(value: str) -> None:
    done = read(value)
    assert done.returncode != 0
    assert "SHOP_STAFF_REFUND_LIMIT" in done.stderr
