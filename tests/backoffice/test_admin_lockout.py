"""The admin resists password guessing: a user is locked out at one address after a few failed
logins, even with the right password, for a while; other users and addresses log in."""

from dataclasses import dataclass
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-staff-password-for-tests"
HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.9"
LIMIT = 5


@pytest.fixture(autouse=True)
def lockouts(settings: SettingsWrapper) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("boss", password=PASSWORD, is_staff=True, is_superuser=True)


@dataclass
class Login:
    client: Client
    response: Any


def log_in(username: str, password: str, *, address: str = HOME, language: str = "en") -> Login:
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=language)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return Login(client, response)


def logged_in(login: Login | Client) -> bool:
    client = login.client if isinstance(login, Login) else login
    return client.get("/admin/").status_code == 200


def fail(times: int, *, username: str = "boss", address: str = HOME) -> None:
    for _ in range(times):
        log_in(username, "wrong-guess", address=address)


def test_the_right_password_is_refused_after_the_limit(staff: User) -> None:
    fail(LIMIT - 2)
    assert log_in("boss", "still-wrong").response.status_code == 200  # the form again
    assert log_in("boss", "wrong-again").response.status_code == 429  # the limit's failure

    right = log_in("boss", PASSWORD)

    assert right.response.status_code == 429
    assert right.response["Retry-After"] == str(15 * 60)
    page = right.response.content.decode()
    assert "Login locked" in page
    assert "15 minutes" in page
    assert not logged_in(right)


def test_the_lockout_speaks_russian(staff: User) -> None:
    fail(LIMIT)
    page = log_in("boss", PASSWORD, language="ru").response.content.decode()
    assert "Вход заблокирован" in page
    assert "15 минут" in page


def test_the_lockout_lifts_after_the_cool_off(staff: User) -> None:
    fail(LIMIT)
    assert log_in("boss", PASSWORD).response.status_code == 429

    from axes.models import AccessAttempt  # an app of the settings': imported once they load

    # As if the cool-off had passed since the last try.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    login = log_in("boss", PASSWORD)

    assert login.response.status_code == 302
    assert logged_in(login)


def test_other_users_and_addresses_are_not_locked_out(staff: User) -> None:
    User.objects.create_user("clerk", password=PASSWORD, is_staff=True, is_superuser=True)
    fail(LIMIT + 3)

    assert logged_in(log_in("clerk", PASSWORD, address=HOME))
    assert logged_in(log_in("boss", PASSWORD, address=ELSEWHERE))
    assert not logged_in(log_in("boss", PASSWORD, address=HOME))


def test_a_login_before_the_limit_starts_the_count_again(staff: User) -> None:
    fail(LIMIT - 1)
    assert logged_in(log_in("boss", PASSWORD))

    fail(LIMIT - 1)
    assert logged_in(log_in("boss", PASSWORD))


def test_behind_the_proxy_the_address_is_the_one_the_proxy_added(
    staff: User, settings: SettingsWrapper
) -> None:
    settings.SHOP_TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]

    def through_proxy(password: str, client_claims: str, real: str) -> Client:
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{client_claims}, {real}")
        client.post("/admin/login/?next=/admin/", {"username": "boss", "password": password})
        return client

    for n in range(LIMIT):
        # A guesser cannot escape the count by making up a new first address each time.
        through_proxy("wrong", f"192.0.2.{n}", HOME)

    assert not logged_in(through_proxy(PASSWORD, "192.0.2.99", HOME))
    assert logged_in(through_proxy(PASSWORD, "192.0.2.99", ELSEWHERE))


def test_a_made_up_forwarded_address_neither_escapes_nor_locks_out(
    staff: User, settings: SettingsWrapper
) -> None:
    """Straight from a client (no trusted proxy), X-Forwarded-For names nobody: guesses under
    new made-up addresses all count to the guesser's own, and naming the real admin's address
    locks only the guesser out."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SHOP_TRUSTED_PROXIES = [ip_network("10.0.0.0/8")]

    def direct(password: str, claims: str) -> Client:
        client = Client(REMOTE_ADDR=ELSEWHERE, HTTP_X_FORWARDED_FOR=claims)
        client.post("/admin/login/?next=/admin/", {"username": "boss", "password": password})
        return client

    for n in range(LIMIT):
        direct("wrong", HOME if n % 2 else f"192.0.2.{n}")

    assert not logged_in(direct(PASSWORD, "192.0.2.99"))
    assert logged_in(log_in("boss", PASSWORD, address=HOME))
