"""SHOP_TAX=stripe: Checkout asks Stripe Tax, the order stores what Stripe computed to the minor
unit, and a payment is checked against what its attempt asked before tax."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order, ShippingRate
from kassa.payments.models import UnmatchedPayment
from kassa.payments.refunds import ReturnedLine, refund_order
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}
GERMANY = {
    "line1": "Hauptstraße 1",
    "line2": None,
    "city": "Berlin",
    "postal_code": "10115",
    "state": None,
    "country": "DE",
}


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "GB", "JP", "US"]
    settings.SHOP_TAX = "stripe"
    settings.SHOP_PRICES_INCLUDE_TAX = ["eur", "jpy"]
    return fake_stripe


def checkout(client: Client, *items: tuple[Any, int], **order: Any) -> tuple[Order, str]:
    for item, quantity in items:
        added = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": quantity}, headers=JSON)
        assert added.status_code in (200, 201), added.content
    placed = Order.objects.get(pk=added.json()["id"])
    Order.objects.filter(pk=placed.pk).update(**order)
    body = client.get(f"/orders/{placed.pk}/buy/").json()
    return placed, body["id"]


def pay(shop: FakeStripe, session_id: str, **paying: Any) -> dict[str, Any]:
    session = shop.resources.complete_checkout_session(session_id, **paying)
    assert post_event(event("checkout.session.completed", session)).status_code == 200
    return session


def test_a_session_asks_stripe_tax_and_no_manual_rate(shop: FakeStripe) -> None:
    TaxFactory.create(name="VAT", percentage=Decimal("20"))  # staff's rate: not used
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    book = ItemFactory.create(name="Book", tax_code="txcd_35010000")
    mug = ItemFactory.create(name="Mug")
    ebook = ItemFactory.create(name="E-book", requires_shipping=False)

    checkout(Client(), (book, 1), (mug, 2), tax=TaxFactory.create(percentage=Decimal("7")))
    checkout(Client(), (ebook, 1))

    shipped, digital = shop.requests_to("POST", "/v1/checkout/sessions")
    body = shipped.body
    assert body["automatic_tax"] == {"enabled": "true"}
    assert all("tax_rates" not in line for line in body["line_items"])
    assert [line["price_data"]["tax_behavior"] for line in body["line_items"]] == [
        "exclusive",
        "exclusive",
    ]
    assert [line["price_data"]["product_data"]["tax_code"] for line in body["line_items"]] == [
        "txcd_35010000",
        "txcd_99999999",  # SHOP_DEFAULT_TAX_CODE
    ]
    assert body["shipping_address_collection"] == {"allowed_countries": ["DE", "GB", "JP", "US"]}
    assert "billing_address_collection" not in body
    rate = shop.resources.shipping_rates[body["shipping_options"][0]["shipping_rate"]]
    assert (rate["tax_behavior"], rate["tax_code"]) == ("exclusive", "txcd_92010001")
    assert shop.requests_to("POST", "/v1/tax_rates") == []
    # Nothing shipped: Stripe Tax needs the billing address.
    assert digital.body["billing_address_collection"] == "required"
    assert "shipping_address_collection" not in digital.body


def test_prices_in_an_inclusive_currency_are_marked_so(shop: FakeStripe) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("20.00"), currency="eur")
    checkout(Client(), (item, 1))
    [created] = shop.requests_to("POST", "/v1/checkout/sessions")
    assert created.body["line_items"][0]["price_data"]["tax_behavior"] == "inclusive"


def test_the_order_stores_stripes_tax_and_the_invoice_shows_it_per_rate(
    shop: FakeStripe,
) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    item = ItemFactory.create(name="Mug", price=Decimal("20.00"))
    client = Client()
    order, session_id = checkout(client, (item, 2))

    session = pay(shop, session_id, address=GERMANY)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not UnmatchedPayment.objects.exists()
    # 40.00 + 19% = 47.60, shipping 5.00 + 19% = 5.95.
    assert session["amount_total"] == 5355
    assert order.amount_paid == 5355
    assert (order.tax_computed_by_stripe, order.tax_amount, order.tax_inclusive) == (
        True,
        855,
        False,
    )
    assert order.tax_breakdown == [
        {"name": "VAT (DE)", "rate": "19.0", "amount": 855, "inclusive": False}
    ]
    assert order.shipping_amount == 595
    invoice = order.invoices.get()
    assert invoice.data["taxes"][0]["amount"] == 855
    assert invoice.amount == 5355
    page = client.get(f"/orders/{order.pk}/").text
    assert "$8.55" in page
    shown = client.get(f"/api/v1/orders/{order.pk}/").json()
    assert (shown["tax"]["amount"], shown["total"]["amount"]) == (855, 5355)


def test_a_session_whose_goods_differ_from_the_attempt_is_unmatched(shop: FakeStripe) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("20.00"), requires_shipping=False)
    order, session_id = checkout(Client(), (item, 1))
    session = shop.resources.complete_checkout_session(session_id, address=GERMANY)
    # Stripe reports a subtotal the shop never asked for (with its tax on top).
    session.update(amount_subtotal=1000, amount_total=1190)

    assert post_event(event("checkout.session.completed", session)).status_code == 200

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    [unmatched] = UnmatchedPayment.objects.all()
    assert unmatched.reason == UnmatchedPayment.Reason.AMOUNT_DIFFERS


def test_a_business_buyer_and_the_buyers_currency_are_recorded(
    shop: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_ADAPTIVE_PRICING = True
    item = ItemFactory.create(name="Mug", price=Decimal("20.00"))
    order, session_id = checkout(Client(), (item, 1))
    [created] = shop.requests_to("POST", "/v1/checkout/sessions")
    assert created.body["adaptive_pricing"] == {"enabled": "true"}
    assert created.body["tax_id_collection"] == {"enabled": "true"}

    japan = {**GERMANY, "country": "JP", "city": "Tokyo", "postal_code": "100-0001"}
    session = pay(shop, session_id, address=japan, business_name="Acme KK", tax_id="T123")

    order.refresh_from_db()
    assert order.currency == "usd"
    assert order.amount_paid == session["amount_total"] == 2200  # 10% JCT on top
    assert (order.presentment_currency, order.presentment_amount) == (
        "jpy",
        session["presentment_details"]["presentment_amount"],
    )
    assert (order.buyer_company, order.buyer_tax_id) == ("Acme KK", "T123")
    buyer = order.invoices.get().data["buyer"]
    assert (buyer["company"], buyer["tax_id"]) == ("Acme KK", "T123")
    # Staff see what the buyer paid in their currency beside the shop's own figures.
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    staff = Client()
    staff.login(username="boss", password="pw-for-tests-only")
    page = staff.get(f"/admin/orders/order/{order.pk}/change/").text
    presented = session["presentment_details"]["presentment_amount"]
    assert f"¥{presented:,}" in page
    assert "$22.00" in page
    assert "Acme KK" in page


COUNTRIES = st.sampled_from(["DE", "GB", "JP", "US", "FR"])
PRICES = {
    # From 125 minor units: with a discount of up to 60 % still Stripe's smallest charge (50).
    "usd": st.integers(125, 50_000),
    "eur": st.integers(125, 50_000),
    "jpy": st.integers(125, 100_000),
}


@hsettings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_stored_totals_equal_stripes_to_the_minor_unit(
    shop: FakeStripe, settings: SettingsWrapper, data: st.DataObject
) -> None:
    currency = data.draw(st.sampled_from(["usd", "eur", "jpy"]))
    settings.SHOP_PRICES_INCLUDE_TAX = data.draw(
        st.sampled_from([[], [currency]]), label="inclusive"
    )
    exponent = 0 if currency == "jpy" else 2
    lines = data.draw(
        st.lists(st.tuples(PRICES[currency], st.integers(1, 5)), min_size=1, max_size=3)
    )
    items = [
        (ItemFactory.create(price=Decimal(price).scaleb(-exponent), currency=currency), quantity)
        for price, quantity in lines
    ]
    shipping = data.draw(st.one_of(st.none(), PRICES[currency]), label="shipping")
    ShippingRate.objects.update(active=False)
    # Goods to send need a rate in their currency: shipping nothing is a rate of 0.
    ShippingRate.objects.create(
        name="Post", amount=Decimal(shipping or 0).scaleb(-exponent), currency=currency
    )
    percent = data.draw(st.one_of(st.none(), st.integers(1, 60)), label="discount")
    discount = DiscountFactory.create(percent_off=Decimal(percent)) if percent else None

    order, session_id = checkout(Client(), *items, discount=discount)
    session = pay(shop, session_id, address={**GERMANY, "country": data.draw(COUNTRIES)})

    order.refresh_from_db()
    assert order.status == Order.Status.PAID, UnmatchedPayment.objects.values()
    assert order.amount_paid == session["amount_total"]
    assert order.tax_amount == session["total_details"]["amount_tax"]
    assert order.shipping_amount == (session["shipping_cost"] or {}).get("amount_total", 0)
    assert sum(share["amount"] for share in order.tax_breakdown) == order.tax_amount
    invoice = order.invoices.get().data
    added = 0 if order.tax_inclusive else sum(t["amount"] for t in invoice["taxes"])
    shipping_tax = (session["shipping_cost"] or {}).get("amount_tax", 0)
    goods_tax_added = 0 if order.tax_inclusive else added - shipping_tax
    assert (
        invoice["subtotal"] - invoice["discount"] + goods_tax_added + invoice["shipping"]
        == invoice["total"]
        == session["amount_total"]
    )


def test_returned_units_of_a_checkout_order_are_refunded_with_their_tax(shop: FakeStripe) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    mug = ItemFactory.create(name="Mug", price=Decimal("20.00"))
    book = ItemFactory.create(name="Book", price=Decimal("10.00"))
    order, session_id = checkout(Client(), (mug, 2), (book, 1))
    session = pay(shop, session_id, address=GERMANY)
    order.refresh_from_db()
    assert order.amount_paid == session["amount_total"] == 5950 + 595  # 19 % on all

    line = order.lines.get(item=mug)
    refund = refund_order(
        order_id=order.pk, requested_by="staff", returned=[ReturnedLine(line.pk, 1)]
    )

    assert refund.amount == 2380  # one mug, 20.00, with its 19 % that Stripe added
