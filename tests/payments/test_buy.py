"""GET /buy/<id>: a Checkout Session through the real stripe-python, against the fake Stripe."""

import time
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.inserts import Together
from kassa.common.installation import installation_id
from kassa.orders import lifecycle
from kassa.orders.errors import OrderNotEditable
from kassa.orders.models import Order
from kassa.payments.methods.checkout_session import cancel_token
from kassa.stripe_api.client import API_VERSION
from tests.attempts import session_of
from tests.conftest import SECRET_KEY
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


def test_buy_creates_a_checkout_session_and_answers_its_id(
    client: Client, fake_stripe: FakeStripe
) -> None:
    # Nothing to ship: what Checkout asks for an address is test_fulfilment.py's
    # test_checkout_asks_for_an_address_and_offers_the_shops_rates.
    item = ItemFactory.create(
        name="Ceramic mug", price=Decimal("14.50"), currency="usd", requires_shipping=False
    )

    before = time.time()
    response = client.get(f"/buy/{item.pk}")
    after = time.time()

    assert response.status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    [session_id] = fake_stripe.resources.checkout_sessions
    body = response.json()
    assert body["id"] == session_id
    assert body["url"] == f"https://checkout.stripe.com/c/pay/{session_id}"
    order = Order.objects.get(pk=body["order_id"])
    assert order.status == Order.Status.PENDING
    assert session_of(order) == session_id
    params = dict(created.params)
    # The session lives CHECKOUT_RESERVATION_MINUTES (30), a minute inside Stripe's least.
    # Bracketed by the clock before and after the request, however long the machine took.
    assert int(before) + 31 * 60 <= int(params.pop("expires_at")) <= after + 31 * 60
    assert params == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "1450",
        "line_items[0][price_data][product_data][name]": "Ceramic mug",
        "line_items[0][quantity]": "1",
        "client_reference_id": str(order.pk),
        "metadata[order_id]": str(order.pk),
        "payment_intent_data[metadata][order_id]": str(order.pk),
        "success_url": "http://testserver/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"http://testserver/checkout/cancel/?order={order.pk}&attempt=1"
        f"&token={cancel_token(order_id=order.pk, attempt=1)}",
        "locale": "en",
        # A business buyer may give a company and tax id for the invoice.
        "tax_id_collection[enabled]": "true",
        "consent_collection[promotions]": "auto",
    }
    assert created.api_key == SECRET_KEY
    assert created.stripe_version == API_VERSION
    assert created.idempotency_key == f"{installation_id()}-kassa-checkout-{order.pk}-1"


def test_buy_builds_return_urls_from_the_request_host(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    item = ItemFactory.create()
    response = client.get(f"/buy/{item.pk}/", HTTP_HOST="localhost:8000")
    assert response.status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["success_url"].startswith("http://localhost:8000/checkout/success/")
    assert created.params["cancel_url"].startswith("http://localhost:8000/checkout/cancel/?order=")


@pytest.mark.parametrize(
    ("currency", "price", "unit_amount"),
    [("jpy", "1800", "1800"), ("kwd", "1.25", "1250"), ("eur", "0.99", "99")],
)
def test_buy_sends_the_price_in_the_currency_minor_units(
    client: Client, fake_stripe: FakeStripe, currency: str, price: str, unit_amount: str
) -> None:
    item = ItemFactory.create(currency=currency, price=Decimal(price))
    assert client.get(f"/buy/{item.pk}").status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["line_items[0][price_data][currency]"] == currency
    assert created.params["line_items[0][price_data][unit_amount]"] == unit_amount


@pytest.mark.parametrize("path", ["/buy/{id}", "/buy/{id}/", "/item/{id}/buy", "/item/{id}/buy/"])
def test_buy_answers_with_and_without_the_trailing_slash(
    client: Client, fake_stripe: FakeStripe, path: str
) -> None:
    item = ItemFactory.create()
    response = client.get(path.format(id=item.pk))
    assert response.status_code == 200
    assert response.json()["id"].startswith("cs_test_")


@pytest.mark.parametrize("raw_id", ["999999", "abc", "1.5", "-1", "١"])
def test_buy_unknown_or_malformed_id_is_a_json_404(
    client: Client, fake_stripe: FakeStripe, raw_id: str
) -> None:
    response = client.get(f"/buy/{raw_id}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "There is no such item.", "code": "not_found"}
    assert fake_stripe.requests == []
    assert not Order.objects.exists()


def test_buy_only_answers_get(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    assert client.post(f"/buy/{item.pk}").status_code == 405
    assert fake_stripe.requests == []


def test_a_transient_stripe_failure_is_retried_with_the_same_idempotency_key(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    fake_stripe.fail_next(status=500, path="/v1/checkout/sessions")

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 200
    first, second = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert first.idempotency_key == second.idempotency_key is not None
    assert len(fake_stripe.resources.checkout_sessions) == 1


def test_a_session_made_whose_answer_was_lost_is_not_made_twice(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    fake_stripe.lose_answer_next(path="/v1/checkout/sessions")

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 200
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 2
    [session] = fake_stripe.resources.checkout_sessions
    assert response.json()["id"] == session


def test_a_dropped_connection_is_retried(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    fake_stripe.drop_next(path="/v1/checkout/sessions")

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 200
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 2


@pytest.mark.parametrize("fault", ["status-503", "dropped"])
def test_stripe_failing_every_time_is_a_clear_503_and_leaves_nothing(
    client: Client, fake_stripe: FakeStripe, fault: str
) -> None:
    item = ItemFactory.create()
    if fault == "dropped":
        fake_stripe.drop_next(times=10)
    else:
        fake_stripe.fail_next(status=503, times=10)

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "code"}
    assert "try again" in body["error"]
    assert "Traceback" not in response.text
    assert SECRET_KEY not in response.text
    # 1 try + 2 retries, then give up; no order is left behind.
    assert len(fake_stripe.requests) == 3
    assert not Order.objects.exists()


def test_stripe_rejecting_the_request_is_a_502_without_detail(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    fake_stripe.fail_next(
        status=400,
        body={"error": {"type": "invalid_request_error", "message": "secret detail sk_live_x"}},
    )

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 502
    assert "secret detail" not in response.text
    assert "could not be started" in response.json()["error"]
    assert len(fake_stripe.requests) == 1  # a 400 is not retried
    assert not Order.objects.exists()


def test_a_bad_api_key_is_a_502(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = "not-a-key"
    item = ItemFactory.create()
    response = client.get(f"/buy/{item.pk}")
    assert response.status_code == 502
    assert "not-a-key" not in response.text


def test_buy_without_payments_configured_is_a_503(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    item = ItemFactory.create()

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 503
    assert response.json() == {
        "error": "Payments are not configured for this shop yet.",
        "code": "payments_not_configured",
    }
    assert fake_stripe.requests == []
    assert not Order.objects.exists()


def test_stripe_timeout_is_a_503(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 0.2
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    fake_stripe.set_latency(1.0)
    item = ItemFactory.create()

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 503
    assert not Order.objects.exists()


def test_every_buy_of_another_item_is_its_own_order(
    client: Client, fake_stripe: FakeStripe
) -> None:
    first = client.get(f"/buy/{ItemFactory.create().pk}").json()
    second = client.get(f"/buy/{ItemFactory.create().pk}").json()
    assert first["order_id"] != second["order_id"]
    assert first["id"] != second["id"]
    keys = [r.idempotency_key for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")]
    assert len(set(keys)) == 2


def test_checkout_speaks_the_customers_language(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    response = client.get(f"/buy/{item.pk}", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert response.status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["locale"] == "ru"


def test_errors_speak_the_customers_language(client: Client, fake_stripe: FakeStripe) -> None:
    response = client.get("/buy/999999", headers={"Accept-Language": "ru"})
    assert response.json() == {"error": "Такого товара нет.", "code": "not_found"}
    fake_stripe.fail_next(status=503, times=10)
    item = ItemFactory.create()
    failed = client.get(f"/buy/{item.pk}", headers={"Accept-Language": "ru"})
    assert failed.json() == {
        "error": "У платёжной системы сейчас сбой. Попробуйте ещё раз через минуту.",
        "code": "payment_provider_unavailable",
    }


def test_a_buy_now_order_is_born_pending_with_its_start_logged(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(price=Decimal("9.99"))

    body = client.get(f"/buy/{item.pk}").json()

    order = Order.objects.get(pk=body["order_id"])
    assert order.status == Order.Status.PENDING
    [attempt] = order.payment_attempts.all()
    assert (attempt.number, attempt.kind, attempt.state) == (1, "checkout_session", "open")
    assert attempt.stripe_id == session_of(order) == body["id"]
    [change] = order.status_changes.all()
    assert (change.from_status, change.to_status, change.source) == (
        "open",
        "pending",
        "checkout started",
    )
    [line] = order.lines.all()
    assert (line.item_id, line.quantity, line.unit_price) == (item.pk, 1, Decimal("9.99"))


def test_only_an_order_being_created_can_be_born_pending() -> None:
    item = ItemFactory.create()
    saved = Order.objects.create(currency=item.currency)
    with pytest.raises(OrderNotEditable), transaction.atomic():
        lifecycle.order_create_pending(order=saved, rows=Together())
    assert Order.objects.count() == 1
    assert saved.status == Order.Status.OPEN


def test_a_secret_key_with_a_stray_line_break_is_a_503_and_leaves_no_order(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    """A key pasted with its newline cannot go in a header: a clear error, not a traceback."""
    settings.STRIPE_API_KEY = SECRET_KEY + "\n"
    item = ItemFactory.create()

    response = client.get(f"/buy/{item.pk}")

    assert response.status_code == 503
    assert "error" in response.json()
    assert SECRET_KEY not in response.text
    assert not Order.objects.exists()
    assert fake_stripe.requests == []


@pytest.mark.django_db(transaction=True)
def test_an_order_is_born_pending_only_inside_the_transaction_that_adds_its_lines() -> None:
    with pytest.raises(OrderNotEditable):
        lifecycle.order_create_pending(order=Order(currency="usd"), rows=Together())
    assert not Order.objects.exists()
