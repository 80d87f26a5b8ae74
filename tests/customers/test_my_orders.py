"""One customer across devices: their orders by the account's e-mail, carts merged at sign-in."""

from decimal import Decimal

import pytest
from django.test import Client

from kassa.customers.models import Customer
from kassa.orders.models import Order
from tests.customers.shop import paid_order, sign_in
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, smtp

__all__ = ["smtp"]
pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "ada@example.com"
JSON = {"Accept": "application/json"}


def add(client: Client, item_id: int, quantity: int = 1) -> int:
    answer = client.post(f"/item/{item_id}/add-to-order/", {"quantity": quantity}, headers=JSON)
    assert answer.status_code in (200, 201), answer.content
    return int(answer.json()["id"])


def test_an_order_paid_before_the_account_is_in_my_orders_on_any_device(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    order = paid_order(fake_stripe, email="Ada@Example.com")
    someone_elses = paid_order(fake_stripe, email="bob@example.com")
    phone = Client()
    assert phone.get("/orders/", headers=JSON).json()["orders"] == []
    sign_in(phone, smtp, EMAIL)
    listed = [o["id"] for o in phone.get("/orders/", headers=JSON).json()["orders"]]
    assert listed == [order.pk]
    assert phone.get(f"/orders/{order.pk}/").status_code == 200
    assert phone.get(f"/orders/{someone_elses.pk}/").status_code == 404
    phone.post("/account/logout/")
    assert phone.get(f"/orders/{order.pk}/").status_code == 404


def test_an_unpaid_order_with_the_email_is_not_the_accounts(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    item = ItemFactory.create()
    stranger = Client()
    cart = add(stranger, item.pk)
    Order.objects.filter(pk=cart).update(email=EMAIL)  # as if typed by someone else
    client = Client()
    sign_in(client, smtp, EMAIL)
    assert client.get(f"/orders/{cart}/").status_code == 404


def test_carts_on_a_phone_and_a_laptop_merge_at_sign_in(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    mug = ItemFactory.create(name="Mug", price=Decimal("10.00"))
    plate = ItemFactory.create(name="Plate", price=Decimal("5.00"))
    phone, laptop = Client(), Client()
    sign_in(phone, smtp, EMAIL)
    phone_cart = add(phone, mug.pk, 2)
    laptop_cart = add(laptop, mug.pk, 1)
    add(laptop, plate.pk, 1)
    assert phone_cart != laptop_cart
    sign_in(laptop, smtp, EMAIL, count=2)

    [cart] = Order.objects.filter(status=Order.Status.OPEN)
    assert cart.pk == phone_cart
    user = Customer.objects.get(email=EMAIL).user
    assert cart.user == user
    assert {line.item.name: line.quantity for line in cart.lines.all()} == {"Mug": 3, "Plate": 1}
    for client in (phone, laptop):
        body = client.get(f"/orders/{cart.pk}/", headers=JSON).json()
        assert body["item_count"] == 4
    # What the laptop adds now goes into the same cart.
    assert add(laptop, plate.pk) == cart.pk


def test_a_laptop_cart_becomes_the_accounts_when_it_has_none(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    laptop = Client()
    cart = add(laptop, ItemFactory.create().pk)
    sign_in(laptop, smtp, EMAIL)
    assert Order.objects.get(pk=cart).user == Customer.objects.get().user
    elsewhere = Client()
    sign_in(elsewhere, smtp, EMAIL, count=2)
    assert elsewhere.get(f"/orders/{cart}/").status_code == 200


def test_orders_placed_while_signed_in_belong_to_the_account(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    client = Client()
    sign_in(client, smtp, EMAIL)
    order = paid_order(fake_stripe, client=client, email="other-address@example.com")
    assert order.user == Customer.objects.get().user
    other_device = Client()
    sign_in(other_device, smtp, EMAIL, count=2)
    assert other_device.get(f"/orders/{order.pk}/").status_code == 200
