"""The HTTP path to Stripe: the client stripe-python sends through (kassa/stripe_api/http.py), and
what the gateway's StripeClient makes of failures on it.

Every test that pays goes through both against the fake Stripe; these check what those do not:
timeouts, which failures are retried (under the same Idempotency-Key) and which are not, how
each surfaces as our error, and proxies named by the environment (which the suite starts
without: tests/conftest.py).
"""

import logging
import socket
from typing import Any

import pytest
import stripe
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.installation import installation_id
from kassa.stripe_api import checkout_sessions, results
from kassa.stripe_api.errors import PaymentProviderRejected, PaymentProviderUnavailable
from kassa.stripe_api.http import Urllib3Client, _proxy_for
from tests.conftest import SECRET_KEY
from tests.fake_stripe import FakeStripe

# Each key sent carries the installation's id, kept in the database.
pytestmark = pytest.mark.django_db

SESSIONS = ("POST", "/v1/checkout/sessions")


def create_session() -> results.CheckoutSession:
    params: Any = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1450,
                    "product_data": {"name": "Ceramic mug"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "http://testserver/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
    }
    return checkout_sessions.create_session(
        currency="usd", params=params, idempotency_key="kassa-checkout-1-1"
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_refused_connection_is_an_error_stripe_may_retry() -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    client = Urllib3Client(timeout=2, api_base=base)

    with pytest.raises(stripe.APIConnectionError) as raised:
        client.request("post", f"{base}/v1/checkout/sessions", {}, "mode=payment")

    assert raised.value.should_retry


def test_a_timeout_is_an_error_stripe_may_retry(fake_stripe: FakeStripe) -> None:
    fake_stripe.set_latency(1.0)
    client = Urllib3Client(timeout=0.2, api_base=fake_stripe.url)

    with pytest.raises(stripe.APIConnectionError) as raised:
        client.request("get", f"{fake_stripe.url}/v1/checkout/sessions/cs_none", {})

    assert raised.value.should_retry


def test_answers_come_back_as_stripe_python_reads_them(fake_stripe: FakeStripe) -> None:
    client = Urllib3Client(timeout=2, api_base=fake_stripe.url)
    headers = {"Authorization": "Bearer sk_test_default_account_secret"}

    body, status, response_headers = client.request(
        "get", f"{fake_stripe.url}/v1/checkout/sessions/cs_none", headers
    )

    assert status == 404
    assert b"error" in body
    # stripe-python looks headers up in lower case (Request-Id, Stripe-Should-Retry).
    assert response_headers["content-type"] == response_headers["Content-Type"]


def test_the_proxy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    assert _proxy_for("https://api.stripe.com") == "http://proxy.internal:3128"

    monkeypatch.setenv("NO_PROXY", "localhost,api.stripe.com")
    assert _proxy_for("https://api.stripe.com") is None


def test_a_request_that_cannot_be_sent_is_an_error_not_worth_retrying(
    fake_stripe: FakeStripe,
) -> None:
    client = Urllib3Client(timeout=2, api_base=fake_stripe.url)

    key = "sk_test_pasted_with_its_newline"
    with pytest.raises(stripe.APIConnectionError) as raised:
        client.request("get", f"{fake_stripe.url}/v1/coupons", {"Authorization": f"Bearer {key}\n"})

    assert not raised.value.should_retry
    assert key not in str(raised.value)


def test_a_proxy_is_read_as_requests_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "proxy.internal:3128")
    assert _proxy_for("https://api.stripe.com") == "http://proxy.internal:3128"


def test_an_unusable_proxy_makes_every_call_an_error_not_worth_retrying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.internal:1080")
    client = Urllib3Client(timeout=2, api_base="https://api.stripe.com")

    with pytest.raises(stripe.APIConnectionError) as raised:
        client.request("get", "https://api.stripe.com/v1/coupons", {})

    assert not raised.value.should_retry


# --- through the gateway's StripeClient ---------------------------------------------------------


@pytest.mark.parametrize("fault", ["dropped", "status-500", "answer-lost"])
def test_a_transient_failure_is_retried_with_the_same_idempotency_key(
    fake_stripe: FakeStripe, fault: str
) -> None:
    if fault == "dropped":
        fake_stripe.drop_next()
    elif fault == "status-500":
        fake_stripe.fail_next(status=500)
    else:
        fake_stripe.lose_answer_next()

    session = create_session()

    first, second = fake_stripe.requests_to(*SESSIONS)
    assert (
        first.idempotency_key == second.idempotency_key == f"{installation_id()}-kassa-checkout-1-1"
    )
    assert list(fake_stripe.resources.checkout_sessions) == [session.id]


def test_retries_stop_at_the_configured_number_and_say_unavailable(
    fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    fake_stripe.fail_next(status=503, times=10)

    with pytest.raises(PaymentProviderUnavailable, match="having trouble"):
        create_session()

    assert len(fake_stripe.requests_to(*SESSIONS)) == 2


def test_a_rejection_is_not_retried_and_is_logged_with_stripes_request_id(
    fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    fake_stripe.fail_next(
        status=400, body={"error": {"type": "invalid_request_error", "message": "No such price."}}
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(PaymentProviderRejected):
        create_session()

    assert len(fake_stripe.requests) == 1
    [failed] = [r for r in caplog.records if r.name == "kassa.stripe_api.client"]
    assert failed.levelname == "ERROR"
    assert "checkout.Session.create failed: status=400" in failed.getMessage()
    assert "stripe_request_id=req_" in failed.getMessage()
    assert not [r for r in caplog.records if SECRET_KEY in r.getMessage()]


def test_a_timeout_is_unavailable(fake_stripe: FakeStripe, settings: SettingsWrapper) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 0.2
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    fake_stripe.set_latency(1.0)

    with pytest.raises(PaymentProviderUnavailable, match="cannot be reached"):
        create_session()


def test_a_success_is_logged_with_stripes_request_id(
    fake_stripe: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        session = create_session()

    messages = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith(f"stripe checkout.Session.create ok: id={session.id} stripe_request_id=req_")
        for m in messages
    )
    assert not [m for m in messages if SECRET_KEY in m]
