"""Stripe's rate limit: 429s retried with backoff under the same idempotency key within a bounded
wait, the shop's own pace per account (threads, processes, Redis, Redis gone), the bulkhead
and a request's deadline. Through the real stripe-python over HTTP, against the fake Stripe,
which answers 429s of Stripe's shape past the limit it is given."""

import logging
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.installation import installation_id
from kassa.orders.models import Order
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api import checkout_sessions, deadline, pacing, sending
from kassa.stripe_api.errors import PaymentProviderBusy
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.fake_stripe.server import RATE_LIMITED
from tests.production_env import ROOT
from tests.redis_dbs import PACING_URL
from tests.stripe_api.test_http import SESSIONS, _closed_port, create_session

REDIS_TEST_URL = PACING_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_pace(settings: SettingsWrapper) -> Iterator[redis.Redis]:
    """Pacing through the suite's Redis database, emptied of paces before and after."""
    client = redis.Redis.from_url(REDIS_TEST_URL)

    def empty() -> None:
        for key in client.scan_iter("kassa:stripe-pace:*"):
            client.delete(key)

    empty()
    settings.REDIS_URL = REDIS_TEST_URL
    yield client
    empty()


def rate_limited(fake: FakeStripe, times: int) -> None:
    fake.fail_next(status=429, times=times, body=RATE_LIMITED)


# --- 429s ---------------------------------------------------------------------------------------


def test_a_429_is_retried_with_the_same_idempotency_key_and_makes_one_session(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(pacing, "on_rate_limited", lambda: pauses.append(time.monotonic()))
    rate_limited(fake_stripe, times=3)

    session = create_session()

    calls = fake_stripe.requests_to(*SESSIONS)
    assert len(calls) == 4
    assert {call.idempotency_key for call in calls} == {f"{installation_id()}-kassa-checkout-1-1"}
    assert list(fake_stripe.resources.checkout_sessions) == [session.id]
    assert len(pauses) == 3  # each 429 told the metrics' hook


def test_the_backoff_grows_exponentially_with_full_jitter(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    """Each pause is drawn from 0 up to a ceiling that doubles, capped."""
    ceilings: list[float] = []

    def uniform(low: float, high: float) -> float:
        ceilings.append(high)
        return low  # no sleeping in the test

    monkeypatch.setattr(sending.random, "uniform", uniform)
    settings.STRIPE_RATE_LIMIT_WAIT_SECONDS = 60
    rate_limited(fake_stripe, times=6)

    create_session()

    assert ceilings == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_past_the_wait_bound_buy_is_a_503_with_retry_after_and_nothing_written(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper, caplog: Any
) -> None:
    settings.STRIPE_RATE_LIMIT_WAIT_SECONDS = 1.5
    fake_stripe.set_rate_limit(0)  # every call is over the limit
    # Nothing to send: the session is the only call, with no shipping rate made before it.
    item = ItemFactory.create(requires_shipping=False)

    with caplog.at_level(logging.INFO, logger="kassa.payments.guard"):
        response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 503
    assert response.json() == {
        "error": "Many customers are paying right now. Please try again in a moment.",
        "code": "payment_provider_busy",
    }
    assert int(response["Retry-After"]) >= 1
    # It gave up at the bound: the pauses it took between 429s add up to less than it.
    pauses = [
        float(p) for p in re.findall(r"stripe answered 429: retry \d+ in ([\d.]+)s", caplog.text)
    ]
    assert "giving up" in caplog.text
    assert sum(pauses) < 1.5 + 0.005 * len(pauses)  # each logged to the hundredth
    calls = fake_stripe.requests_to(*SESSIONS)
    assert len(calls) >= 2
    assert all(call.rate_limited for call in calls)
    assert len({call.idempotency_key for call in calls}) == 1
    assert fake_stripe.resources.checkout_sessions == {}
    assert not Order.objects.exists()
    assert not PaymentAttempt.objects.exists()


def test_the_api_answers_the_same_503_with_retry_after(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_RATE_LIMIT_WAIT_SECONDS = 0.5
    fake_stripe.set_rate_limit(0)
    item = ItemFactory.create()
    token = client.get("/api/v1/csrf").json()["csrf_token"]

    response = client.post(f"/api/v1/items/{item.pk}/buy", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "payment_provider_busy"
    assert int(response["Retry-After"]) >= 1


# --- the pace -----------------------------------------------------------------------------------


def _many_at_once(count: int, call: object) -> list[BaseException | None]:
    def one(_: int) -> BaseException | None:
        try:
            call()  # type: ignore[operator]
        except Exception as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.parametrize("shared", [False, True], ids=["per-process", "redis"])
def test_threads_above_the_pace_wait_in_line_instead_of_failing(
    fake_stripe: FakeStripe, settings: SettingsWrapper, request: pytest.FixtureRequest, shared: bool
) -> None:
    if shared:
        request.getfixturevalue("shared_pace")
    else:
        settings.REDIS_URL = ""
    settings.STRIPE_RATE_LIMIT = 20
    settings.STRIPE_CONCURRENCY = 64
    fake_stripe.set_rate_limit(25)  # Stripe's test-mode limit

    started = time.monotonic()
    failures = _many_at_once(50, create_session)
    took = time.monotonic() - started

    assert failures == [None] * 50
    assert fake_stripe.rate_limited_count == 0
    # 20 a second, one every 50 ms: 50 calls take 49 intervals. A send may leave a little
    # after its turn on a busy machine, so a second may hold a few more, within Stripe's 25.
    assert took >= 49 / 20 - 0.1
    assert fake_stripe.average_rate() <= 20 * 1.1
    assert fake_stripe.most_in_one_second() <= 25


def test_the_pace_is_per_account(fake_stripe: FakeStripe, settings: SettingsWrapper) -> None:
    settings.STRIPE_RATE_LIMIT = 5
    settings.REDIS_URL = ""
    waits = [
        pacing.reserve(account=account, live=False, max_wait=10) for account in ("a", "b", "a", "b")
    ]
    assert waits[0] == waits[1] == 0
    assert 0.15 < waits[2] <= 0.2
    assert 0.15 < waits[3] <= 0.2


def test_live_and_test_keys_have_their_own_defaults(settings: SettingsWrapper) -> None:
    settings.STRIPE_RATE_LIMIT = None
    assert pacing.rate_for(live=True) == 80
    assert pacing.rate_for(live=False) == 20
    assert sending.account_of("sk_live_x", "k").live
    assert sending.account_of("rk_live_x", "k").live
    assert not sending.account_of("sk_test_x", "k").live


def test_without_redis_each_process_paces_at_its_share(settings: SettingsWrapper) -> None:
    settings.REDIS_URL = ""
    settings.STRIPE_RATE_LIMIT = 20
    settings.WEB_CONCURRENCY = 4  # 5 a second for this process
    pacing.reserve(account="share", live=False, max_wait=10)
    assert 0.19 < pacing.reserve(account="share", live=False, max_wait=10) <= 0.2


def test_rate_zero_turns_pacing_off(fake_stripe: FakeStripe, settings: SettingsWrapper) -> None:
    settings.STRIPE_RATE_LIMIT = 0
    assert [pacing.reserve(account="off", live=False, max_wait=0) for _ in range(5)] == [0] * 5


_PROCESS = textwrap.dedent(
    """
    import sys, django
    django.setup()
    from django.conf import settings
    settings.STRIPE_API_BASE, settings.STRIPE_API_KEY = sys.argv[1], "sk_test_processes"
    settings.REDIS_URL, settings.STRIPE_RATE_LIMIT = sys.argv[2], 20
    settings.WEB_CONCURRENCY, settings.STRIPE_CONCURRENCY = int(sys.argv[3]), 64
    from kassa.common import installation
    installation._known = "processes"  # these processes have no migrated database
    print("ready", flush=True)
    sys.stdin.readline()  # every process starts calling at once
    from concurrent.futures import ThreadPoolExecutor
    from tests.stripe_api.test_http import create_session
    with ThreadPoolExecutor(8) as pool:
        print(len([s.id for s in pool.map(lambda _: create_session(), range(16))]))
    """
)


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "per-process-share"])
def test_several_processes_keep_one_pace_together(
    fake_stripe: FakeStripe, shared_pace: redis.Redis, shared: bool
) -> None:
    """Three processes (three replicas, or a replica's workers) of 8 threads, 16 calls each."""
    fake_stripe.set_rate_limit(25)
    env = {"DJANGO_SETTINGS_MODULE": "config.settings_test", "PATH": "/usr/bin:/bin"}
    url = REDIS_TEST_URL if shared else ""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, fake_stripe.url, url, "3"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=60)[0].strip() for process in processes]

    assert outputs == ["16", "16", "16"]
    assert fake_stripe.rate_limited_count == 0
    assert len(fake_stripe.requests_to(*SESSIONS)) == 48
    assert fake_stripe.average_rate() <= 20 * 1.1
    assert fake_stripe.most_in_one_second() <= 25


def test_when_redis_goes_away_pacing_falls_back_per_process_and_says_so_once(
    fake_stripe: FakeStripe, settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.STRIPE_RATE_LIMIT = 20

    with caplog.at_level(logging.WARNING, logger="kassa.stripe_api.pacing"):
        started = time.monotonic()
        for _ in range(6):
            create_session()
        took = time.monotonic() - started

    assert len(fake_stripe.requests_to(*SESSIONS)) == 6
    assert took >= 5 / 20 - 0.05  # still paced, by this process alone
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith("Redis does not answer (ConnectionError)")


def test_a_call_whose_turn_is_too_far_away_is_refused_without_reserving_it(
    settings: SettingsWrapper, shared_pace: redis.Redis
) -> None:
    settings.STRIPE_RATE_LIMIT = 2  # one call every half second
    assert pacing.reserve(account="far", live=False, max_wait=0) == 0
    with pytest.raises(pacing.PaceExceeded) as refused:
        pacing.reserve(account="far", live=False, max_wait=0.1)
    assert 0.4 < refused.value.wait <= 0.5
    # Nothing reserved by the refusal: the next caller's turn is the same.
    assert 0.4 < pacing.reserve(account="far", live=False, max_wait=1) <= 0.5


# --- the bulkhead and the deadline ----------------------------------------------------------


def test_the_bulkhead_refuses_at_once_past_its_threads(
    fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_CONCURRENCY = 2
    fake_stripe.set_latency(1.0)
    refused: list[float] = []
    served: list[float] = []
    retry_afters: list[int | None] = []

    def one() -> None:
        try:
            create_session()
        except PaymentProviderBusy as exc:
            refused.append(time.monotonic())
            retry_afters.append(exc.retry_after)
            raise
        served.append(time.monotonic())

    failures = _many_at_once(5, one)

    assert len(refused) == 3
    assert retry_afters == [1, 1, 1]
    assert sum(isinstance(failure, PaymentProviderBusy) for failure in failures) == 3
    # Refused at once: before either call given a thread had Stripe's answer.
    assert max(refused) < min(served)
    assert len(fake_stripe.requests_to(*SESSIONS)) == 2


def test_a_buy_past_its_deadline_is_a_clear_503_and_nothing_written(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_TOTAL_DEADLINE_SECONDS = 1.0
    settings.STRIPE_TIMEOUT_SECONDS = 20.0
    fake_stripe.set_latency(3.0)
    item = ItemFactory.create()

    response = client.get(f"/buy/{item.pk}")

    # Cut at the deadline: within the 20 s timeout Stripe would have answered (after 3 s) and
    # the session been made; this answer says the deadline passed.
    assert response.status_code == 503
    assert response.json() == {
        "error": "The payment provider is taking too long to answer. Please try again.",
        "code": "payment_provider_busy",
    }
    assert response["Retry-After"] == "5"
    assert len(fake_stripe.requests_to(*SESSIONS)) <= 1
    assert not Order.objects.exists()


def test_outside_a_request_there_is_no_deadline(
    fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    """Management commands (reconciliation) run their calls with the per-call timeout only."""
    settings.STRIPE_TOTAL_DEADLINE_SECONDS = 0.1
    fake_stripe.set_latency(0.3)
    assert deadline.remaining() is None
    assert create_session().id


def test_the_metrics_hook_hears_each_wait(
    fake_stripe: FakeStripe, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.STRIPE_RATE_LIMIT = 10
    settings.REDIS_URL = ""
    waits: list[float] = []
    monkeypatch.setattr(pacing, "on_paced", waits.append)
    for _ in range(3):
        checkout_sessions.retrieve_session(currency="usd", session_id=create_session().id)
    assert len(waits) == 6
    assert max(waits) > 0.05


def test_threads_meeting_an_outage_together_say_so_once(
    settings: SettingsWrapper, caplog: pytest.LogCaptureFixture
) -> None:
    """A process's threads find Redis gone at the same moment (a replica's 16 Buy clicks): one
    warning for the outage, not one per thread that was already calling."""
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    shared = pacing._shared()
    assert shared is not None
    start = threading.Barrier(16)

    def reserve() -> float | None:
        start.wait()
        return shared.reserve("acct_outage", 0.05, 1.0)

    with (
        caplog.at_level(logging.WARNING, logger="kassa.stripe_api.pacing"),
        ThreadPoolExecutor(16) as pool,
    ):
        answers = list(pool.map(lambda _: reserve(), range(16)))

    assert answers == [None] * 16  # each falls back to the process's own pace
    assert [r.getMessage()[:24] for r in caplog.records] == ["Redis does not answer (C"]
