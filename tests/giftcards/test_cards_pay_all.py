"""An order its gift cards pay in full passes no Stripe page, the one that would ask the buyer's
e-mail: the cart asks a guest for it beside Buy (the API takes it as `email`), the order keeps
it, and its confirmation goes there once. Without a valid one nothing is written."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kassa.customers.personal_data import customer_orders
from kassa.customers.sign_in import customer_for_email
from kassa.giftcards import ledger
from kassa.giftcards.models import GiftCard, GiftCardEntry
from kassa.notifications.models import Mail
from kassa.orders.models import Order
from kassa.payments.models import PaymentAttempt
from tests.api.test_api import Api
from tests.customers.shop import sign_in
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, run_worker, smtp

__all__ = ["smtp"]
pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"Accept": "application/json"}
EMAIL = "ada@example.com"


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: Any) -> FakeStripe:
    settings.SHOP_THROTTLE = False
    return fake_stripe


def card(amount: int = 5000) -> tuple[GiftCard, str]:
    return ledger.issue(amount=amount, currency="usd")


def cart_paid_by(client: Client, code: str, price: str = "30.00") -> Order:
    """A digital item of `price` in the client's cart, the card `code` applied to it."""
    item = ItemFactory.create(price=Decimal(price), requires_shipping=False)
    added = client.post(f"/item/{item.pk}/add-to-order/", headers=JSON)
    assert added.status_code in (200, 201), added.content
    order = Order.objects.get(pk=added.json()["id"])
    assert client.post(f"/orders/{order.pk}/discount", {"code": code}).status_code == 302
    return order


def assert_nothing_written(order: Order, gift_card: GiftCard) -> None:
    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.OPEN, "")
    assert not PaymentAttempt.objects.filter(order=order).exists()
    assert not order.reservations.exists()
    gift_card.refresh_from_db()
    assert gift_card.balance == 5000
    assert list(GiftCardEntry.objects.filter(card=gift_card).values_list("kind", flat=True)) == [
        "issued"
    ]
    assert not Mail.objects.filter(order=order).exists()


def confirmations_to(smtp: SMTPServer, order: Order, email: str) -> list[Any]:
    run_worker()
    return [
        message
        for message in smtp.inbox.with_subject(f"Your order #{order.pk} is paid")
        if message["X-Envelope-To"] == email
    ]


def test_the_cart_asks_a_guest_for_the_email_only_when_cards_pay_all(shop: FakeStripe) -> None:
    client = Client()
    _card, code = card()
    order = cart_paid_by(client, code, price="30.00")
    page = client.get(f"/orders/{order.pk}/").text
    assert '<input id="buy-email" name="email" type="email" required' in page
    assert 'data-email-from="buy-email"' in page

    # A card paying part: Stripe's Checkout asks for the e-mail, the cart does not.
    other = Client()
    _small, small_code = card(1000)
    partly = cart_paid_by(other, small_code, price="30.00")
    page = other.get(f"/orders/{partly.pk}/").text
    assert 'id="buy-email"' not in page
    assert "data-email-from" not in page


def test_without_an_email_nothing_is_paid_held_or_written(shop: FakeStripe) -> None:
    client = Client()
    gift_card, code = card()
    order = cart_paid_by(client, code)

    missing = client.get(f"/orders/{order.pk}/buy/", headers=JSON)
    blank = client.post(f"/orders/{order.pk}/buy/", {"email": "  "}, headers=JSON)
    wrong = client.post(f"/orders/{order.pk}/buy/", {"email": "ada@"}, headers=JSON)

    # The e-mail is posted from the shop's own page only: a POST without its CSRF token is refused.
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    forged = strict.post(f"/orders/{order.pk}/buy/", {"email": EMAIL}, headers=JSON)
    assert forged.status_code == 403

    for answer in (missing, blank, wrong):
        assert answer.status_code == 400, answer.content
        assert set(answer.json()) == {"error", "code"}
        assert answer.json()["code"] == "email_required"
    assert "e-mail" in missing.json()["error"]
    assert_nothing_written(order, gift_card)
    assert not shop.requests


def test_with_an_email_the_order_is_paid_kept_and_confirmed_once(
    shop: FakeStripe, smtp: SMTPServer
) -> None:
    client = Client()
    gift_card, code = card()
    order = cart_paid_by(client, code)

    answer = client.post(f"/orders/{order.pk}/buy/", {"email": f" {EMAIL} "}, headers=JSON)

    assert answer.status_code == 200, answer.content
    assert answer.json()["id"] == ""
    assert answer.json()["url"].endswith(f"/checkout/success/?order={order.pk}")
    order.refresh_from_db()
    assert (order.status, order.email, order.amount_paid) == (Order.Status.PAID, EMAIL, 3000)
    gift_card.refresh_from_db()
    assert gift_card.balance == 2000
    assert not shop.requests
    # Asked again (a second click, a reload): paid once, mailed once.
    again = client.post(f"/orders/{order.pk}/buy/", {"email": EMAIL}, headers=JSON)
    assert again.status_code == 409
    assert Mail.objects.filter(order=order, kind=Mail.Kind.CONFIRMATION).count() == 1
    assert len(confirmations_to(smtp, order, EMAIL)) == 1
    run_worker()
    assert len(confirmations_to(smtp, order, EMAIL)) == 1
    # Its buyer finds it again by that e-mail (an account made later with it).
    assert order in customer_orders(customer_for_email(email=EMAIL))


def test_a_signed_in_customer_is_not_asked(shop: FakeStripe, smtp: SMTPServer) -> None:
    client = Client()
    sign_in(client, smtp, EMAIL)
    _card, code = card()
    order = cart_paid_by(client, code)
    page = client.get(f"/orders/{order.pk}/").text
    assert 'id="buy-email"' not in page

    answer = client.get(f"/orders/{order.pk}/buy/", headers=JSON)

    assert answer.status_code == 200, answer.content
    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.PAID, EMAIL)
    assert len(confirmations_to(smtp, order, EMAIL)) == 1


def test_the_api_takes_the_email_and_refuses_a_missing_or_wrong_one(
    shop: FakeStripe, smtp: SMTPServer
) -> None:
    api = Api()
    gift_card, code = card()
    item = ItemFactory.create(price=Decimal("30.00"), requires_shipping=False)
    api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 1})
    assert api.send("post", "/cart/gift-cards", {"code": code}).status_code == 200
    order = Order.objects.get()
    checkout = f"/orders/{order.pk}/checkout"

    for body in (None, {}, {"email": None}, {"email": "not an address"}, {"email": "a\x00@b.c"}):
        refused = api.send("post", checkout, body)
        assert refused.status_code == 400, (body, refused.content)
        assert refused.json() == {"error": refused.json()["error"], "code": "email_required"}
    intent = api.send("post", f"/orders/{order.pk}/payment-intent")
    assert (intent.status_code, intent.json()["code"]) == (400, "email_required")
    assert_nothing_written(order, gift_card)

    paid = api.send("post", checkout, {"email": EMAIL})

    assert paid.status_code == 200, paid.content
    assert paid.json()["id"] == ""
    assert paid.json()["order_id"] == order.pk
    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.PAID, EMAIL)
    assert api.get(f"/orders/{order.pk}").json()["status"] == "paid"
    assert len(confirmations_to(smtp, order, EMAIL)) == 1
    assert not shop.requests


def test_an_email_is_not_asked_when_stripe_is(shop: FakeStripe) -> None:
    """Cards paying part: Checkout asks for the e-mail, the shop needs none to begin."""
    api = Api()
    _small, small_code = card(1000)
    item = ItemFactory.create(price=Decimal("30.00"), requires_shipping=False)
    api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 1})
    api.send("post", "/cart/gift-cards", {"code": small_code})
    order = Order.objects.get()

    started = api.send("post", f"/orders/{order.pk}/checkout")

    assert started.status_code == 200, started.content
    assert started.json()["id"].startswith("cs_")
