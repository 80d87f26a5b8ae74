"""The gateway's clients: one StripeClient per keypair, shaped by settings, never by stripe's
module globals; and what it reads back. Through the real stripe-python over HTTP, against the
fake Stripe."""

from typing import Any

import pytest
import stripe
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.stripe_api import (
    checkout_sessions,
    client,
    payment_intents,
    price_objects,
    refunds,
    results,
)
from tests.conftest import SECRET_KEY
from tests.fake_stripe import FakeStripe

# Each key sent carries the installation's id, kept in the database.
pytestmark = pytest.mark.django_db

EUR_SECRET = "sk_test_eur_account_secret"

# stripe-python's module globals that would shape a call made without a client.
GLOBALS = (
    "api_key",
    "api_base",
    "api_version",
    "max_network_retries",
    "default_http_client",
    "proxy",
    "verify_ssl_certs",
    "enable_telemetry",
    "app_info",
    "client_id",
    "stripe_account",
    "connect_api_base",
    "upload_api_base",
    "log",
)


@pytest.fixture
def eur_account(settings: SettingsWrapper) -> None:
    settings.STRIPE_KEYS_BY_CURRENCY = {
        "eur": {"secret": EUR_SECRET, "publishable": "pk_test_eur_account"}
    }


def session_params(currency: str = "usd") -> Any:
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": 1450,
                    "product_data": {"name": "Ceramic mug"},
                },
                "quantity": 1,
            }
        ],
        "metadata": {"order_id": "7"},
        "success_url": "http://testserver/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
    }


def every_kind_of_call(fake_stripe: FakeStripe, currency: str = "usd") -> None:
    session = checkout_sessions.create_session(
        currency=currency, params=session_params(currency), idempotency_key="k-session"
    )
    checkout_sessions.retrieve_session(currency=currency, session_id=session.id)
    checkout_sessions.expire_session(currency=currency, session_id=session.id)
    price_objects.create_coupon(
        currency=currency, params={"percent_off": 10, "duration": "once"}, idempotency_key="k-c"
    )
    price_objects.create_tax_rate(
        currency=currency,
        params={"display_name": "VAT", "percentage": 20, "inclusive": False},
        idempotency_key="k-t",
    )
    intent = payment_intents.create_intent(
        currency=currency, params={"amount": 1000, "currency": currency}, idempotency_key="k-pi"
    )
    payment_intents.update_intent(
        currency=currency,
        payment_intent_id=intent.id,
        params={"amount": 1200},
        idempotency_key="k-pi-2",
    )
    payment_intents.retrieve_intent(currency=currency, payment_intent_id=intent.id)
    payment_intents.cancel_intent(currency=currency, payment_intent_id=intent.id)
    paid = payment_intents.create_intent(
        currency=currency, params={"amount": 500, "currency": currency}, idempotency_key="k-pi-3"
    )
    fake_stripe.resources.succeed_payment_intent(paid.id)
    refunds.create_refund(currency=currency, payment_intent_id=paid.id, idempotency_key="k-r")


def test_no_stripe_module_global_is_read_or_written(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Globals that would send a call elsewhere if the gateway used them: the calls still reach
    # the fake with the configured key, and the globals are as they were.
    monkeypatch.setattr(stripe, "api_key", "sk_test_a_global_nobody_should_use")
    monkeypatch.setattr(stripe, "api_base", "http://127.0.0.1:9")
    monkeypatch.setattr(stripe, "max_network_retries", 7)
    monkeypatch.setattr(stripe, "default_http_client", None)
    before = {name: getattr(stripe, name, None) for name in GLOBALS}

    every_kind_of_call(fake_stripe)

    after = {name: getattr(stripe, name, None) for name in GLOBALS}
    assert after == before
    assert stripe.default_http_client is None  # stripe-python's own global client never made
    assert stripe.enable_telemetry is False  # the one global set, once, on import
    assert len(fake_stripe.requests) == 11
    assert {r.api_key for r in fake_stripe.requests} == {SECRET_KEY}


def test_every_request_pins_the_api_version(fake_stripe: FakeStripe) -> None:
    every_kind_of_call(fake_stripe)

    assert fake_stripe.requests
    assert {r.stripe_version for r in fake_stripe.requests} == {client.API_VERSION}


def test_each_keypair_has_one_client_that_calls_reuse(
    fake_stripe: FakeStripe, eur_account: None
) -> None:
    client.build_client.cache_clear()

    for _ in range(3):
        checkout_sessions.create_session(
            currency="usd", params=session_params("usd"), idempotency_key="k-usd"
        )
        checkout_sessions.create_session(
            currency="eur", params=session_params("eur"), idempotency_key="k-eur"
        )

    assert client.build_client.cache_info().misses == 2
    assert client.client_for("usd") is client.client_for("usd")
    assert client.client_for("eur") is not client.client_for("usd")
    # A currency without an account of its own is paid into the default one, with its client.
    assert client.client_for("gbp") is client.client_for("usd")
    calls = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert [c.api_key for c in calls] == [SECRET_KEY, EUR_SECRET] * 3


def test_changed_settings_shape_a_new_client(
    fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    first = client.client_for("usd")

    settings.STRIPE_TIMEOUT_SECONDS = 1.5
    second = client.client_for("usd")
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    third = client.client_for("usd")
    settings.STRIPE_API_KEY = "sk_test_another_account"
    fourth = client.client_for("usd")

    assert len({id(first), id(second), id(third), id(fourth)}) == 4


def test_currency_comes_back_on_sessions_and_intents(
    fake_stripe: FakeStripe, eur_account: None
) -> None:
    session = checkout_sessions.create_session(
        currency="eur", params=session_params("eur"), idempotency_key="k-1"
    )
    intent = payment_intents.create_intent(
        currency="eur", params={"amount": 999, "currency": "eur"}, idempotency_key="k-2"
    )

    assert session.currency == "eur"
    assert checkout_sessions.retrieve_session(currency="eur", session_id=session.id).currency == (
        "eur"
    )
    assert intent.currency == "eur"
    assert payment_intents.retrieve_intent(
        currency="eur", payment_intent_id=intent.id
    ).currency == ("eur")


def test_currency_from_an_event_is_lower_case() -> None:
    session = results.checkout_session(
        {"id": "cs_test_1", "currency": "EUR", "metadata": {"order_id": "3"}}
    )
    intent = results.payment_intent({"id": "pi_test_1", "currency": "JPY"})

    assert (session.currency, session.order_id) == ("eur", "3")
    assert intent.currency == "jpy"
