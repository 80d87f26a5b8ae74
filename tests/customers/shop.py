"""What the customers' tests share: signing in through the real mail, and paid orders."""

import re
from decimal import Decimal
from email.message import Message

from django.test import Client

from kassa.catalog.models import Item
from kassa.orders.models import Order
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, part, run_worker, wait_for

CODE = re.compile(r"\b([2-9A-HJ-NP-Z]{6})\b")
LINK = re.compile(r"(https?://\S+/account/sign-in/link/[A-Za-z0-9_-]+/)")


def sign_in_mail(smtp: SMTPServer, email: str, *, count: int = 1) -> Message:
    """The `count`-th sign-in mail to `email`, once the worker sent it."""

    def mine() -> list[Message]:
        return [
            m
            for m in smtp.inbox.messages
            if m["X-Envelope-To"] == email and LINK.search(part(m, "text/plain"))
        ]

    wait_for(lambda: len(mine()) >= count, then=run_worker)
    return mine()[count - 1]


def code_of(message: Message) -> str:
    found = CODE.search(part(message, "text/plain"))
    assert found, part(message, "text/plain")
    return found.group(1)


def link_of(message: Message) -> str:
    found = LINK.search(part(message, "text/plain"))
    assert found, part(message, "text/plain")
    return found.group(1)


def ask_code(client: Client, email: str) -> None:
    answer = client.post("/account/sign-in/", {"email": email})
    assert answer.status_code == 302, answer.content
    assert answer["Location"] == "/account/sign-in/code/"


def sign_in(client: Client, smtp: SMTPServer, email: str, *, count: int = 1) -> None:
    ask_code(client, email)
    code = code_of(sign_in_mail(smtp, email, count=count))
    answer = client.post("/account/sign-in/code/", {"code": code})
    assert answer.status_code == 302, answer.content
    assert answer["Location"] == "/account/"


def paid_order(
    fake: FakeStripe,
    *,
    client: Client | None = None,
    email: str = "buyer@example.com",
    items: list[tuple[Item, int]] | None = None,
) -> Order:
    """A cart of `items` (default: 2 mugs at 10.00 and 1 plate at 5.00, 3 in stock each), paid
    through Checkout by `email`."""
    client = client or Client()
    if items is None:
        items = [
            (ItemFactory.create(name="Mug", price=Decimal("10.00"), stock=3), 2),
            (ItemFactory.create(name="Plate", price=Decimal("5.00"), stock=3), 1),
        ]
    order_id = 0
    for item, quantity in items:
        added = client.post(
            f"/item/{item.pk}/add-to-order/",
            {"quantity": quantity},
            headers={"Accept": "application/json"},
        )
        assert added.status_code in (200, 201), added.content
        order_id = added.json()["id"]
    body = client.get(f"/orders/{order_id}/buy/").json()
    fake.resources.complete_checkout_session(body["id"], email=email)
    assert client.get(f"/checkout/success/?session_id={body['id']}").status_code == 200
    order = Order.objects.get(pk=order_id)
    assert order.status == Order.Status.PAID, order.status
    return order
