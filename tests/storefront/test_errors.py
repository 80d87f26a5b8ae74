"""One error model: each shop error is of one kind, and each kind has one HTTP answer."""

import pytest
from django.test import Client

from kassa.common.errors import ShopError
from kassa.common.http import status_of
from kassa.orders.errors import (
    CurrencyMismatch,
    EmptyOrder,
    InvalidDiscountCode,
    InvalidQuantity,
    OrderError,
    OrderNotEditable,
)
from kassa.orders.models import Order
from kassa.payments.errors import CheckoutConflict, CheckoutSuperseded, RefundFailed
from kassa.stripe_api.errors import (
    PaymentError,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
)
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import JSON, cart


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OrderNotEditable, 409),
        (CurrencyMismatch, 409),
        (InvalidQuantity, 400),
        (InvalidDiscountCode, 400),
        (EmptyOrder, 409),
        (PaymentsNotConfigured, 503),
        (PaymentProviderUnavailable, 503),
        (PaymentProviderRejected, 502),
        (CheckoutConflict, 409),
        (CheckoutSuperseded, 409),
        (RefundFailed, 409),
    ],
)
def test_each_error_answers_the_status_of_its_kind(error: type[ShopError], status: int) -> None:
    assert status_of(error("Told as it is.")) == status
    assert error("Told as it is.").message == "Told as it is."


def test_the_apps_errors_keep_their_own_bases() -> None:
    # Code that catches an app's errors (a failed checkout reopening its order) still can.
    for error in (OrderNotEditable, CurrencyMismatch, InvalidQuantity, InvalidDiscountCode):
        assert issubclass(error, OrderError)
    for payment_error in (PaymentsNotConfigured, CheckoutSuperseded, RefundFailed):
        assert issubclass(payment_error, PaymentError)
    assert not issubclass(PaymentsNotConfigured, OrderError)


def test_an_error_of_no_kind_is_a_500() -> None:
    assert status_of(ShopError("Nothing says what went wrong.")) == 500


# --- Over HTTP: JSON endpoints answer every error in JSON, pages as they always did. ---------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("post", "/buy/{item}", "GET"),
        ("post", "/item/{item}/buy/", "GET"),
        ("get", "/orders/{order}/payment-intent/", "POST"),
        ("get", "/item/{item}/payment-intent/", "POST"),
        ("get", "/stripe/webhook/", "POST"),
    ],
)
def test_a_json_endpoint_answers_a_wrong_method_in_json_with_allow(
    client: Client, fake_stripe: FakeStripe, method: str, path: str, allowed: str
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    url = path.format(item=order.lines.get().item_id, order=order.pk)
    # As a real client: CSRF is checked, and a POST to a GET-only endpoint is still a 405.
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies

    response = getattr(strict, method)(url)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == allowed
    assert response.json() == {
        "error": f"This address answers only {allowed}.",
        "code": "method_not_allowed",
    }
    assert fake_stripe.requests == []


@pytest.mark.django_db
def test_a_page_answers_a_wrong_method_in_json_only_to_a_json_client(client: Client) -> None:
    item = ItemFactory.create()
    browser = client.get(f"/item/{item.pk}/add-to-order/")
    assert browser.status_code == 405
    assert browser["Allow"] == "POST"
    assert browser.content == b""  # Django's own answer, as before

    json_client = client.get(f"/item/{item.pk}/add-to-order/", headers=JSON)
    assert json_client.status_code == 405
    assert json_client["Allow"] == "POST"
    assert json_client.json() == {
        "error": "This address answers only POST.",
        "code": "method_not_allowed",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/orders/{order}/payment-intent/", {}),  # JSON even without Accept
        ("/item/{item}/payment-intent/", {}),
        ("/item/{item}/add-to-order/", JSON),
        ("/orders/{order}/discount/", JSON),
        ("/orders/{order}/lines/{line}/", JSON),
    ],
)
def test_a_post_without_a_csrf_token_is_refused_in_json(
    fake_stripe: FakeStripe, path: str, headers: dict[str, str]
) -> None:
    order = cart(Client(), (ItemFactory.create().pk, 1))
    line = order.lines.get()
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        path.format(item=line.item_id, order=order.pk, line=line.pk), headers=headers
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "CSRF token" in response.json()["error"]
    assert response.json()["code"] == "csrf_failed"
    assert fake_stripe.requests == []
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_a_page_form_without_a_csrf_token_still_gets_djangos_page() -> None:
    item = ItemFactory.create()
    response = Client(enforce_csrf_checks=True).post(
        f"/item/{item.pk}/add-to-order/", {"quantity": "1"}
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert "CSRF verification failed" in response.text
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_the_webhook_still_needs_no_csrf_token() -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/stripe/webhook/", b"{}", content_type="application/json"
    )
    assert response.status_code == 400  # refused for its missing signature, not for CSRF
    assert "Stripe-Signature" in response.json()["error"]


@pytest.mark.django_db
def test_an_unknown_address_is_json_to_a_json_client_and_a_page_to_a_browser(
    client: Client,
) -> None:
    assert client.get("/no/such/page/", headers=JSON).json() == {
        "error": "There is nothing at this address.",
        "code": "not_found",
    }
    page = client.get("/no/such/page/")
    assert page.status_code == 404
    assert "Not found" in page.text


@pytest.mark.django_db
def test_an_unexpected_failure_is_json_on_a_json_endpoint(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("kassa.storefront.views.checkout.checkout_buy", broken)
    item = ItemFactory.create()
    response = Client(raise_request_exception=False).get(f"/buy/{item.pk}")
    assert response.status_code == 500
    assert response.json() == {
        "error": "The shop hit an unexpected error. Nothing was charged. "
        "Please try again in a minute.",
        "code": "server_error",
    }


@pytest.mark.django_db
def test_an_unexpected_failure_of_a_page_is_json_only_to_a_json_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("kassa.orders.selectors.order_list", broken)
    client = Client(raise_request_exception=False)
    assert "error" in client.get("/orders/", headers=JSON).json()
    page = client.get("/orders/")
    assert page.status_code == 500
    assert "Something went wrong" in page.text


@pytest.mark.django_db
def test_a_refused_form_post_is_a_message_on_the_page_it_came_from(client: Client) -> None:
    usd, eur = ItemFactory.create(currency="usd"), ItemFactory.create(currency="eur")
    cart(client, (usd.pk, 1))

    refused = client.post(f"/item/{eur.pk}/add-to-order/", {"quantity": "1"})

    assert refused.status_code == 302
    assert refused["Location"] == f"/item/{eur.pk}/"
    assert "Your cart is in USD" in client.get(refused["Location"]).text


@pytest.mark.django_db
def test_pages_that_also_answer_json_vary_on_accept(client: Client) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    for headers in ({}, JSON):
        for path in ("/orders/", f"/orders/{order.pk}/"):
            vary = client.get(path, headers=headers)["Vary"]
            assert "Accept" in [part.strip() for part in vary.split(",")]


@pytest.mark.django_db
def test_the_json_errors_speak_the_visitors_language(client: Client) -> None:
    russian = {"Accept-Language": "ru"}
    item = ItemFactory.create()
    assert client.post(f"/buy/{item.pk}", headers=russian).json() == {
        "error": "Этот адрес отвечает только на GET.",
        "code": "method_not_allowed",
    }
    refused = Client(enforce_csrf_checks=True).post(
        f"/item/{item.pk}/payment-intent/", headers=russian
    )
    assert "CSRF-токена" in refused.json()["error"]
