"""The HTTP client the Stripe library reaches Stripe with (kassa/payments/http.py).

Every test that pays goes through it against the fake Stripe; these check what those do not:
failures that stripe-python may retry, and proxies named by the environment (which the suite
starts without: tests/conftest.py).
"""

import socket

import pytest
import stripe

from kassa.payments.http import Urllib3Client, _proxy_for
from tests.fake_stripe import FakeStripe


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
