"""Production hardening: security headers on every page, HTTPS, /healthz, request ids in the logs,
and Django's deployment checklist with the documented production settings."""

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.template.loader import render_to_string
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.logs import OneLineFormatter, RequestIdFilter
from kassa.common.request_id import current_request_id
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.production_env import ROOT, command_env

HOST = "shop.example.com"
HTTPS = {"Host": HOST, "X-Forwarded-Proto": "https"}  # as the TLS proxy forwards requests


@pytest.fixture
def production(settings: SettingsWrapper) -> SettingsWrapper:
    """What settings.py makes of docker/production.env (checked in a subprocess below)."""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [HOST]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


def _csp(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (p.split() for p in header.split(";") if p.strip())}


def _pages(fake_stripe: FakeStripe) -> list[str]:
    item = ItemFactory.create()  # with Stripe configured, its page loads Stripe.js
    return [
        "/",
        f"/item/{item.pk}/",
        "/checkout/success/",
        "/checkout/cancel/",
        "/orders/",
        "/no-such-page/",
        "/healthz",
        "/admin/login/",
    ]


@pytest.mark.django_db
def test_every_page_carries_the_security_headers(
    production: SettingsWrapper, fake_stripe: FakeStripe
) -> None:
    client = Client()
    for path in _pages(fake_stripe):
        response = client.get(path, headers=HTTPS)
        assert response.status_code in (200, 404), path
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        csp = _csp(headers["Content-Security-Policy"])
        assert csp["default-src"] == ["'self'"]
        assert csp["script-src"] == ["'self'", "https://js.stripe.com"]
        assert sorted(csp["frame-src"]) == [
            "https://checkout.stripe.com",
            "https://hooks.stripe.com",
            "https://js.stripe.com",
        ]
        assert csp["connect-src"] == ["'self'", "https://api.stripe.com"]
        assert csp["frame-ancestors"] == ["'none'"]
        assert csp["object-src"] == ["'none'"]
        assert "unsafe" not in headers["Content-Security-Policy"]


@pytest.mark.django_db
def test_pages_have_no_inline_script_or_style_for_the_policy_to_block(
    client: Client, fake_stripe: FakeStripe
) -> None:
    bodies = {path: client.get(path).text for path in _pages(fake_stripe)}
    bodies["500.html"] = render_to_string("500.html")
    assert 'src="https://js.stripe.com/v3/"' in bodies[next(p for p in bodies if "/item/" in p)]
    for name, body in bodies.items():
        # Data blocks (JSON for a page's script, schema.org JSON-LD) are never run: nothing to
        # block. Any other script without a src would be.
        data_block = r'(?![^>]*\stype="application/(?:ld\+)?json")'
        assert not re.search(rf"<script(?![^>]*\ssrc=){data_block}[^>]*>", body), name
        assert not re.search(r"\son[a-z]+\s*=", body, re.I), name
        assert not re.search(r"\sstyle\s*=|<style", body, re.I), name
        assert "javascript:" not in body, name


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_except_the_health_probe(
    production: SettingsWrapper,
) -> None:
    client = Client()
    response = client.get("/", HTTP_HOST=HOST)
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/"
    assert client.get("/healthz", HTTP_HOST=HOST).status_code == 200


@pytest.mark.django_db
def test_cookies_are_secure_and_http_only_under_https(production: SettingsWrapper) -> None:
    response = Client().get("/admin/login/", headers=HTTPS)
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"] is True
    assert csrf["httponly"] is True
    assert production.SESSION_COOKIE_HTTPONLY is True


def test_settings_py_turns_the_production_env_into_https_settings() -> None:
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
        "for k in ['DEBUG', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_SECURE',"
        " 'CSRF_COOKIE_SECURE', 'CSRF_COOKIE_HTTPONLY', 'SESSION_COOKIE_HTTPONLY',"
        " 'SECURE_PROXY_SSL_HEADER', 'ALLOWED_HOSTS', 'CSRF_TRUSTED_ORIGINS']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=command_env(DJANGO_SETTINGS_MODULE="config.settings"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "ALLOWED_HOSTS": [HOST],
        "CSRF_TRUSTED_ORIGINS": [f"https://{HOST}"],
    }


# A server's .env sets Stripe's keys beside production.env (without them the shop would run demo
# payments, which check --deploy refuses: tests/demo_stripe/).
STRIPE_ENV = {
    "STRIPE_API_KEY": "sk_test_placeholder",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
}


def _check_deploy(**env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=command_env(**{**STRIPE_ENV, **env}),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_with_the_documented_production_env() -> None:
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_without_stripe_keys_as_demo_payments_would_run() -> None:
    result = _check_deploy(STRIPE_API_KEY=None, STRIPE_PUBLISHABLE_KEY=None)
    assert result.returncode != 0
    assert "kassa.E001" in result.stderr


def test_check_deploy_fails_without_https() -> None:
    result = _check_deploy(DJANGO_HTTPS=None)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


# --- /healthz ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_says_the_app_and_database_are_up(client: Client) -> None:
    for path in ("/healthz", "/healthz/"):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"status": "ok", "database": "ok"}
        assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


# --- Request ids and log lines -------------------------------------------------------------------


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Log lines as the console handler writes them (settings.LOGGING's filter and formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        OneLineFormatter("%(levelname)s %(name)s request_id=%(request_id)s %(message)s")
    )
    logger = logging.getLogger("django")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_request_id_is_made_up_when_none_comes_in(client: Client) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert current_request_id.get() == "-"  # nothing left behind for the next request


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("proxy-4f2a.17", True),
        ("evil\nINFO forged line", False),
        ("has spaces", False),
        ("x" * 129, False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_it_is_safe_to_log(
    client: Client, incoming: str, kept: bool
) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert (response["X-Request-ID"] == incoming) is kept
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", response["X-Request-ID"])


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id(
    client: Client, log_lines: io.StringIO, settings: SettingsWrapper
) -> None:
    settings.ALLOWED_HOSTS = [HOST]
    client.get("/no-such-page/", HTTP_HOST=HOST, HTTP_X_REQUEST_ID="req-404")
    client.get("/", HTTP_HOST="evil.test", HTTP_X_REQUEST_ID="req-bad-host")
    lines = log_lines.getvalue().splitlines()
    assert "WARNING django.request request_id=req-404 Not Found: /no-such-page/" in lines
    # The client's doing, not the shop's: one warning line, without a traceback.
    bad_host = [line for line in lines if "django.security.DisallowedHost" in line]
    assert len(bad_host) == 1
    assert bad_host[0].startswith("WARNING django.security.DisallowedHost request_id=req-bad-host")
    assert "Traceback" not in bad_host[0]


def test_one_line_formatter_keeps_a_traceback_on_the_line() -> None:
    logger = logging.getLogger("tests.one_line")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(OneLineFormatter("%(request_id)s %(message)s"))
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed\nhere")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert output.count("\n") == 1
    assert output.startswith("- failed\\nhere\\nTraceback")
    assert "ValueError: boom" in output
