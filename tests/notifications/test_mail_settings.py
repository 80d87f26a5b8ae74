"""EMAIL_URL and the other mail settings, as settings.py reads them from the environment."""

import json
import subprocess
import sys

import pytest

from tests.production_env import ROOT, command_env

READ = (
    "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k "
    "in ['EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', "
    "'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'SHOP_STAFF_EMAILS', 'SHOP_SHIPPING_COUNTRIES', "
    "'SHOP_COLLECT_PHONE', 'DEFAULT_FROM_EMAIL']}))"
)


def mail_settings(**env: str | None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {READ}"],
        cwd=ROOT,
        env=command_env(DJANGO_SETTINGS_MODULE="config.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        (
            "smtp://mailer:s%40cret@smtp.example.com:587",
            {
                "EMAIL_BACKEND": SMTP,
                "EMAIL_HOST": "smtp.example.com",
                "EMAIL_PORT": 587,
                "EMAIL_HOST_USER": "mailer",
                "EMAIL_HOST_PASSWORD": "s@cret",
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
            },
        ),
        (
            "smtp+ssl://mailer:pw@smtp.example.com:465",
            {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False},
        ),
        (
            "smtp://127.0.0.1:25",
            {"EMAIL_BACKEND": SMTP, "EMAIL_PORT": 25, "EMAIL_USE_TLS": False},
        ),
    ],
)
def test_email_url(url: str | None, expected: dict[str, object]) -> None:
    read = mail_settings(EMAIL_URL=url)
    assert {key: read[key] for key in expected} == expected


def test_staff_countries_phone_and_sender() -> None:
    read = mail_settings(
        SHOP_STAFF_EMAILS="orders@example.com,owner@example.com",
        SHOP_SHIPPING_COUNTRIES="de, fr,US",
        SHOP_COLLECT_PHONE="true",
        DEFAULT_FROM_EMAIL="Shop <shop@example.com>",
    )
    assert read["SHOP_STAFF_EMAILS"] == ["orders@example.com", "owner@example.com"]
    assert read["SHOP_SHIPPING_COUNTRIES"] == ["DE", "FR", "US"]
    assert read["SHOP_COLLECT_PHONE"] is True
    assert read["DEFAULT_FROM_EMAIL"] == "Shop <shop@example.com>"


def test_a_malformed_country_list_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=command_env(DJANGO_SETTINGS_MODULE="config.settings", SHOP_SHIPPING_COUNTRIES="USA,DE"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "SHOP_SHIPPING_COUNTRIES" in done.stderr
