import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client
from django.utils import translation
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog import revision
from kassa.payments import stripe_objects
from tests.fake_stripe import FakeStripe

SYSTEM = Path(__file__).resolve().parent / "system"

SECRET_KEY = "sk_test_default_account_secret"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/system/ runs the shop as it runs for real (gunicorn, replicas,
    worker processes, Chromium, the container's start script): `-m "not system"` leaves it out,
    for a fast loop."""
    for item in items:
        if SYSTEM in item.path.parents:
            item.add_marker(pytest.mark.system)


PUBLISHABLE_KEY = "pk_test_default_account"

# The Redis server the run started for itself (tests/redis_dbs.py), stopped when it ends.
_own_redis: subprocess.Popen[bytes] | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Without KASSA_TEST_REDIS_URL, the tests start a Redis of their own on a free port (no
    disk, gone when the run ends), so a developer's Redis and its data are never touched."""
    global _own_redis
    if os.environ.get("KASSA_TEST_REDIS_URL") or not shutil.which("redis-server"):
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _own_redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    os.environ["KASSA_TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _own_redis is not None:
        _own_redis.terminate()
        _own_redis.wait(timeout=10)


@pytest.fixture(autouse=True, scope="session")
def _no_proxies_from_the_shell() -> Iterator[None]:
    """The suite's servers are all on 127.0.0.1: a developer's proxy variables must not send
    the shop's Stripe calls (whose client reads them once per process), or the browser, away."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
                patch.delenv(name)
        yield


@pytest.fixture(autouse=True)
def _the_default_language() -> None:
    """A request in Russian leaves Russian active in the thread that served it (Django's
    LocaleMiddleware activates a language and never deactivates it): each test starts in the
    default, whatever the test before it asked for."""
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_shared_pages_from_other_tests() -> Iterator[None]:
    """Shared pages, and the taxes and shipping rates a process keeps, are kept under the
    catalog revision, which each test's rollback restores; the Stripe ids a process keeps name
    records the rollback removes: none outlives its test."""

    def forget() -> None:
        for name in ("pages", "searches"):
            caches[name].clear()
        revision._seen = ("", float("-inf"))
        revision.KeptPerRevision.forget_all()
        stripe_objects.forget_known()

    forget()
    yield
    forget()


@pytest.fixture(autouse=True)
def _media_in_a_folder_of_the_tests_own(
    settings: SettingsWrapper, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Images a test stores go to a folder of its own, never into the project's media/."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def fake_stripe_server() -> Iterator[FakeStripe]:
    fake = FakeStripe().start()
    fake.on_reset.append(stripe_objects.forget_known)
    yield fake
    fake.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    """The fake Stripe, emptied, with the shop configured to pay into its default account."""
    fake_stripe_server.reset()
    settings.STRIPE_API_BASE = fake_stripe_server.url
    settings.STRIPE_API_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    return fake_stripe_server


@pytest.fixture
def client() -> Client:
    return Client()
