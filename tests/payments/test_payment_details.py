"""The card page's customer details: e-mail, name, phone, address and shipping choice sent to the
order's PaymentIntent (receipt_email, shipping, an amount with the chosen shipping) through the
real stripe library to the fake Stripe, then recorded by fulfilment when the intent is paid."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order, ShippingRate
from kassa.payments.models import UnmatchedPayment
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_fulfilment import deliver
from tests.payments.test_order_checkout import JSON, cart
from tests.payments.test_payment_intents import intent_id, shown, start
from tests.stripe_events import WEBHOOK_SECRET, event

pytestmark = pytest.mark.django_db

ADDRESS = {
    "line1": "Hauptstraße 5",
    "line2": "",
    "postal_code": "10115",
    "city": "Berlin",
    "state": "",
    "country": "DE",
}


@pytest.fixture(autouse=True)
def shop(settings: SettingsWrapper, fake_stripe: FakeStripe) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "US"]
    settings.SHOP_COLLECT_PHONE = False
    return fake_stripe


@pytest.fixture
def rates() -> dict[str, ShippingRate]:
    return {
        "post": ShippingRate.objects.create(
            name="Post", amount=Decimal("5.00"), currency="usd", min_days=3, max_days=5
        ),
        # Free for an order of 100 USD or more.
        "courier": ShippingRate.objects.create(
            name="Courier", amount=Decimal("15.00"), currency="usd", free_from=Decimal("100")
        ),
        "euro": ShippingRate.objects.create(name="Euro post", amount=Decimal("4"), currency="eur"),
        "old": ShippingRate.objects.create(
            name="Old", amount=Decimal("1.00"), currency="usd", active=False
        ),
    }


def details(client: Client, order: Order, **fields: Any) -> Any:
    data = {"email": "ana+shop@example.com", "name": "Ana Müller", **ADDRESS, **fields}
    return client.post(f"/orders/{order.pk}/payment-details/", data, headers=JSON)


def intent_of_page(fake: FakeStripe, body: dict[str, Any]) -> dict[str, Any]:
    return fake.resources.payment_intents[intent_id(body["client_secret"])]


def test_the_page_is_offered_the_rates_and_the_intent_asks_the_cheapest(
    client: Client, shop: FakeStripe, rates: dict[str, ShippingRate]
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("40.00")).pk, 1))

    body = start(client, order).json()

    customer = body["customer"]
    assert customer["needs_shipping"] is True
    assert customer["countries"] == ["DE", "US"]
    assert [
        (o["id"], o["name"], o["price"], o["estimate"]) for o in customer["shipping_options"]
    ] == [
        (rates["post"].pk, "Post", shown(500), "3–5 days"),
        (rates["courier"].pk, "Courier", shown(1500), ""),
    ]
    assert customer["shipping_options"][1]["pay_label"] == f"Pay {shown(5500)}"
    intent = intent_of_page(shop, body)
    assert intent["amount"] == body["amount"] == 4500
    assert intent["metadata"] == {
        "order_id": str(order.pk),
        "shipping_rate_id": str(rates["post"].pk),
        "shipping_amount": "500",
        "shipping_method": "Post",
    }


def test_free_from_makes_a_rate_free(
    client: Client, shop: FakeStripe, rates: dict[str, ShippingRate]
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("120.00")).pk, 1))
    body = start(client, order).json()
    options = body["customer"]["shipping_options"]
    # Cheapest first: the courier ships this order free.
    assert [(o["name"], o["price"]) for o in options] == [("Courier", "Free"), ("Post", shown(500))]
    assert intent_of_page(shop, body)["amount"] == 12000

    response = details(client, order, shipping_rate=rates["courier"].pk)

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == 12000


def test_details_reach_the_intent_and_the_paid_order(
    client: Client, shop: FakeStripe, rates: dict[str, ShippingRate]
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("40.00")).pk, 1))
    body = start(client, order).json()
    pi = intent_id(body["client_secret"])

    response = details(client, order, shipping_rate=rates["courier"].pk)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "order_id": order.pk,
        "amount": 5500,
        "currency": "usd",
        "total": shown(5500),
        "pay_label": f"Pay {shown(5500)}",
        "tax": None,  # the shop's own rates: nothing for Stripe Tax to add
        "tax_notice": "",
    }
    [update] = shop.requests_to("POST", f"/v1/payment_intents/{pi}")
    assert update.params["amount"] == "5500"  # worked out by the shop: the browser sent none
    intent = shop.resources.payment_intents[pi]
    # One receipt, the shop's: Stripe sends its own only when given receipt_email.
    assert "receipt_email" not in update.body
    assert intent["receipt_email"] is None
    assert intent["metadata"]["customer_email"] == "ana+shop@example.com"
    assert intent["shipping"]["name"] == "Ana Müller"
    assert intent["shipping"]["address"]["line1"] == "Hauptstraße 5"
    assert intent["metadata"]["shipping_rate_id"] == str(rates["courier"].pk)
    assert intent["metadata"]["shipping_amount"] == "1500"

    shop.resources.succeed_payment_intent(pi)
    page = client.get(f"/checkout/success/?payment_intent={pi}")
    assert page.status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_paid == 5500
    assert order.email == "ana+shop@example.com"
    assert order.customer_name == "Ana Müller"
    assert (order.shipping_line1, order.shipping_city, order.shipping_country) == (
        "Hauptstraße 5",
        "Berlin",
        "DE",
    )
    assert order.shipping_rate == rates["courier"]
    assert order.shipping_method == "Courier"
    assert order.shipping_amount == 1500
    assert order.fulfilment_status == Order.Fulfilment.UNFULFILLED
    assert not UnmatchedPayment.objects.exists()
    # The webhook reporting the same payment again changes nothing.
    deliver(event("payment_intent.succeeded", shop.resources.payment_intents[pi]))
    order.refresh_from_db()
    assert order.amount_paid == 5500


def test_the_last_choice_is_what_is_charged(
    client: Client, shop: FakeStripe, rates: dict[str, ShippingRate]
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("40.00")).pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])

    assert details(client, order, shipping_rate=rates["courier"].pk).json()["amount"] == 5500
    assert details(client, order, shipping_rate=rates["post"].pk).json()["amount"] == 4500
    # Back to the first choice: not an old answer replayed under a reused idempotency key.
    assert details(client, order, shipping_rate=rates["courier"].pk).json()["amount"] == 5500
    assert shop.resources.payment_intents[pi]["amount"] == 5500

    shop.resources.succeed_payment_intent(pi)
    deliver(event("payment_intent.succeeded", shop.resources.payment_intents[pi]))
    order.refresh_from_db()
    assert (order.status, order.amount_paid, order.shipping_amount) == (
        Order.Status.PAID,
        5500,
        1500,
    )


def test_digital_goods_ask_no_address(
    client: Client, shop: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_COLLECT_PHONE = True
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    order = cart(client, (ItemFactory.create(price=Decimal("9.00"), requires_shipping=False).pk, 1))
    body = start(client, order).json()
    assert body["customer"]["needs_shipping"] is False
    assert body["customer"]["shipping_options"] == []
    assert body["customer"]["collect_phone"] is True
    pi = intent_id(body["client_secret"])

    missing = client.post(
        f"/orders/{order.pk}/payment-details/",
        {"email": "e@example.com", "name": "Eve"},
        headers=JSON,
    )
    assert missing.status_code == 400
    assert missing.json()["error"] == "Please enter your phone number."

    response = client.post(
        f"/orders/{order.pk}/payment-details/",
        {"email": "e@example.com", "name": "Eve", "phone": "+49 30 123"},
        headers=JSON,
    )
    assert response.status_code == 200, response.content
    intent = shop.resources.payment_intents[pi]
    assert intent["amount"] == 900
    assert intent["shipping"] is None
    shop.resources.succeed_payment_intent(pi)
    client.get(f"/checkout/success/?payment_intent={pi}")
    order.refresh_from_db()
    assert (order.status, order.email, order.customer_name, order.phone) == (
        Order.Status.PAID,
        "e@example.com",
        "Eve",
        "+49 30 123",
    )
    assert order.fulfilment_status == Order.Fulfilment.NOT_REQUIRED


def test_a_business_buyer_on_the_card_page_gets_an_invoice_naming_the_company(
    client: Client, shop: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("9.00"), requires_shipping=False).pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    response = client.post(
        f"/orders/{order.pk}/payment-details/",
        {"email": "e@example.com", "name": "Eve", "company": " Acme GmbH ", "tax_id": "DE999"},
        headers=JSON,
    )
    assert response.status_code == 200, response.content
    assert shop.resources.payment_intents[pi]["metadata"]["buyer_company"] == "Acme GmbH"

    shop.resources.succeed_payment_intent(pi)
    client.get(f"/checkout/success/?payment_intent={pi}")

    order.refresh_from_db()
    assert (order.status, order.buyer_company, order.buyer_tax_id) == (
        Order.Status.PAID,
        "Acme GmbH",
        "DE999",
    )
    buyer = order.invoices.get().data["buyer"]
    assert (buyer["company"], buyer["tax_id"]) == ("Acme GmbH", "DE999")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"email": ""}, "Please enter your e-mail address."),
        ({"name": ""}, "Please enter your name."),
        ({"shipping_rate": "999999"}, "This shipping method is not offered for this order."),
        ({"shipping_rate": "abc"}, "Enter a whole number."),
        ({"shipping_rate": "EURO"}, "This shipping method is not offered for this order."),
        ({"shipping_rate": "OLD"}, "This shipping method is not offered for this order."),
        ({"shipping_rate": ""}, "Please choose a shipping method."),
        ({"country": "FR"}, "The shop does not send orders to this country."),
        ({"country": "Germany"}, "The country must be a two-letter code."),
        (
            {"line1": "", "city": "", "country": ""},
            "Please enter the address to send the order to.",
        ),
        ({"city": ""}, "Please enter the street, city and country."),
        ({"name": "x" * 501}, None),
    ],
)
def test_bad_details_are_a_400_and_change_nothing(
    client: Client,
    shop: FakeStripe,
    rates: dict[str, ShippingRate],
    fields: dict[str, str],
    message: str | None,
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("40.00")).pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    named = {"EURO": rates["euro"].pk, "OLD": rates["old"].pk}
    if fields.get("shipping_rate") in named:
        fields = {**fields, "shipping_rate": str(named[fields["shipping_rate"]])}
    fields = {"shipping_rate": str(rates["post"].pk), **fields}

    response = details(client, order, **fields)

    assert response.status_code == 400, response.content
    if message is not None:
        assert response.json()["error"] == message
    assert shop.requests_to("POST", f"/v1/payment_intents/{pi}") == []
    intent = shop.resources.payment_intents[pi]
    assert (intent["amount"], intent["receipt_email"], intent["shipping"]) == (4500, None, None)


def test_details_for_an_order_not_being_paid_are_refused(client: Client, shop: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    assert details(client, order).status_code == 409  # no intent yet
    assert details(client, Order(pk=order.pk + 1000)).status_code == 404
    assert not shop.requests_to("POST", "/v1/payment_intents")


def test_details_of_another_visitors_order_are_a_404(client: Client, shop: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    start(client, order)
    assert details(Client(), order).status_code == 404


@pytest.mark.parametrize("stripe_receipts", [False, True])
def test_stripe_sends_its_receipt_only_when_the_shop_says_so(
    client: Client,
    shop: FakeStripe,
    rates: dict[str, ShippingRate],
    settings: SettingsWrapper,
    stripe_receipts: bool,
) -> None:
    settings.SHOP_STRIPE_RECEIPTS = stripe_receipts
    order = cart(client, (ItemFactory.create(price=Decimal("40.00")).pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])

    assert details(client, order, shipping_rate=rates["post"].pk).status_code == 200

    intent = shop.resources.payment_intents[pi]
    if stripe_receipts:
        assert intent["receipt_email"] == "ana+shop@example.com"
        assert "customer_email" not in intent["metadata"]
    else:
        assert intent["receipt_email"] is None
        assert intent["metadata"]["customer_email"] == "ana+shop@example.com"
    # Either way the paid order knows whom to confirm it to.
    shop.resources.succeed_payment_intent(pi)
    deliver(event("payment_intent.succeeded", shop.resources.payment_intents[pi]))
    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.PAID, "ana+shop@example.com")


def test_a_rate_switched_off_while_the_customer_pays_is_refused_not_sent_free(
    client: Client, shop: FakeStripe, rates: dict[str, ShippingRate]
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("40.00")).pk, 1))
    body = start(client, order).json()
    intent = intent_of_page(shop, body)
    for rate in ShippingRate.objects.filter(currency="usd", active=True):
        rate.active = False
        rate.save()  # as staff's edit in the admin: the shop reads its rates again

    answer = details(client, order, shipping_rate=str(rates["post"].pk))

    assert answer.status_code == 409, answer.content
    assert answer.json()["code"] == "no_shipping_rate"
    assert intent_of_page(shop, body)["amount"] == intent["amount"]  # unchanged at Stripe
