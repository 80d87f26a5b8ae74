"""Details remembered: Checkout and the card page start with the account's e-mail, the card
page with the last shipping address."""

from decimal import Decimal

import pytest
from django.test import Client

from kassa.customers.models import SavedAddress
from kassa.orders.models import Order
from tests.customers.shop import paid_order, sign_in
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, smtp
from tests.payments.test_payment_intents import start

__all__ = ["smtp"]
pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "ada@example.com"
JSON = {"Accept": "application/json"}


def cart_of(client: Client) -> Order:
    item = ItemFactory.create(price=Decimal("8.00"))
    answer = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": 1}, headers=JSON)
    return Order.objects.get(pk=answer.json()["id"])


def test_checkout_is_given_the_accounts_email(fake_stripe: FakeStripe, smtp: SMTPServer) -> None:
    client = Client()
    sign_in(client, smtp, EMAIL)
    order = cart_of(client)
    assert client.get(f"/orders/{order.pk}/buy/").status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["customer_email"] == EMAIL
    assert not fake_stripe.requests_to("POST", "/v1/customers")  # no Stripe Customer is made


def test_an_anonymous_checkout_asks_for_the_email(fake_stripe: FakeStripe) -> None:
    client = Client()
    order = cart_of(client)
    client.get(f"/orders/{order.pk}/buy/")
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert "customer_email" not in created.params


def test_the_card_page_starts_with_the_email_and_the_last_address(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    paid_order(fake_stripe, email=EMAIL)  # before the account: shipped to 1 Main St
    client = Client()
    sign_in(client, smtp, EMAIL)
    order = cart_of(client)
    customer = start(client, order).json()["customer"]
    assert customer["email"] == EMAIL
    assert customer["address"]["address"]["line1"] == "1 Main St"
    assert customer["address"]["name"] == "Ada Buyer"

    stranger = Client()
    assert start(stranger, cart_of(stranger)).json()["customer"]["address"] is None


def test_saved_addresses_are_listed_edited_and_removed(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    paid_order(fake_stripe, email=EMAIL)  # before the account: 1 Main St
    client = Client()
    sign_in(client, smtp, EMAIL)
    page = client.get("/account/").content.decode()
    assert "1 Main St" in page
    [kept] = SavedAddress.objects.all()
    assert client.get(f"/account/addresses/{kept.pk}/").status_code == 200
    edited = client.post(
        f"/account/addresses/{kept.pk}/",
        {"name": "Ada L.", "line1": "2 Side St", "city": "Springfield", "country": "US"},
    )
    assert edited.status_code == 302
    customer = start(client, cart_of(client)).json()["customer"]
    assert customer["address"]["address"]["line1"] == "2 Side St"
    assert customer["address"]["name"] == "Ada L."
    bad = client.post(
        f"/account/addresses/{kept.pk}/",
        {"line1": "x", "city": "y", "country": "ZZ"},
        headers=JSON,
    )
    assert bad.status_code == 400

    # Another customer cannot see, change or remove it.
    other = Client()
    sign_in(other, smtp, "bob@example.com")
    assert other.get(f"/account/addresses/{kept.pk}/").status_code == 404
    assert other.post(f"/account/addresses/{kept.pk}/remove/").status_code == 404

    assert client.post(f"/account/addresses/{kept.pk}/remove/").status_code == 302
    assert not SavedAddress.objects.exists()
    stranger_cart = cart_of(client)
    assert start(client, stranger_cart).json()["customer"]["address"] is None


def test_an_order_paid_while_signed_in_keeps_its_address(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    client = Client()
    sign_in(client, smtp, EMAIL)
    assert not SavedAddress.objects.exists()
    paid_order(fake_stripe, client=client, email="typed-in-checkout@example.com")
    [kept] = SavedAddress.objects.all()
    assert kept.customer.email == EMAIL
    assert kept.line1 == "1 Main St"
    paid_order(fake_stripe, client=client, email=EMAIL)  # the same address again: kept once
    assert SavedAddress.objects.count() == 1
