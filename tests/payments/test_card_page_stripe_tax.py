"""SHOP_TAX=stripe on the card page: the PaymentIntent's amount holds the tax a Stripe Tax
calculation computed for the customer's address, the order stores what Stripe computed to the
minor unit, the sale is recorded with Stripe Tax once however often the payment is reported,
and refunds reverse it."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order, ShippingRate
from kassa.payments.models import TaxTransaction, UnmatchedPayment
from kassa.payments.reconcile import reconcile_pending
from kassa.payments.refunds import ReturnedLine, refund_order
from tests.factories import DiscountFactory, ItemFactory
from tests.fake_stripe import FakeStripe
from tests.mail import run_worker
from tests.payments.test_fulfilment import deliver
from tests.payments.test_order_checkout import JSON, cart
from tests.payments.test_payment_intents import intent_id, shown, start
from tests.stripe_events import WEBHOOK_SECRET, event

# Transactions commit: the worker sends the sale and its reversals to Stripe after the commit.
pytestmark = pytest.mark.django_db(transaction=True)
GERMANY = {
    "line1": "Hauptstraße 5",
    "line2": "",
    "postal_code": "10115",
    "city": "Berlin",
    "state": "",
    "country": "DE",
}
CREATE_TRANSACTION = "/v1/tax/transactions/create_from_calculation"
REVERSE_TRANSACTION = "/v1/tax/transactions/create_reversal"


@pytest.fixture(autouse=True)
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "GB", "JP", "US", "FR"]
    settings.SHOP_COLLECT_PHONE = False
    settings.SHOP_TAX = "stripe"
    settings.SHOP_PRICES_INCLUDE_TAX = ["eur", "jpy"]
    return fake_stripe


def details(client: Client, order: Order, **fields: Any) -> Any:
    data = {"email": "ana@example.com", "name": "Ana Müller", **GERMANY, **fields}
    return client.post(f"/orders/{order.pk}/payment-details/", data, headers=JSON)


def pay(shop: FakeStripe, client: Client, intent: str) -> None:
    """The customer confirms; the success page and the webhook (twice) report the payment."""
    paid = shop.resources.succeed_payment_intent(intent)
    assert client.get(f"/checkout/success/?payment_intent={intent}").status_code == 200
    deliver(event("payment_intent.succeeded", paid))
    deliver(event("payment_intent.succeeded", paid))
    run_worker()  # the worker sends the sale to Stripe Tax


def test_the_intent_asks_the_calculations_tax_and_the_sale_is_recorded_once(
    client: Client, shop: FakeStripe
) -> None:
    post = ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    book = ItemFactory.create(name="Book", price=Decimal("20.00"), tax_code="txcd_35010000")
    order = cart(client, (book.pk, 2))
    body = start(client, order).json()
    assert body["customer"]["tax_by_stripe"] is True
    pi = intent_id(body["client_secret"])
    # Before the address is known the intent asks the goods and shipping, and says so.
    assert shop.resources.payment_intents[pi]["metadata"]["tax"] == "stripe"

    response = details(client, order, shipping_rate=post.pk)

    assert response.status_code == 200, response.content
    [asked] = shop.requests_to("POST", "/v1/tax/calculations")
    assert asked.body["currency"] == "usd"
    assert asked.body["line_items"] == [
        {
            "amount": "4000",
            "quantity": "2",
            "reference": f"line-{order.lines.get().pk}",
            "tax_behavior": "exclusive",
            "tax_code": "txcd_35010000",
        }
    ]
    assert asked.body["shipping_cost"] == {
        "amount": "500",
        "tax_behavior": "exclusive",
        "tax_code": "txcd_92010001",
    }
    assert asked.body["customer_details"]["address"]["country"] == "DE"
    assert asked.body["customer_details"]["address_source"] == "shipping"
    [calculation] = shop.resources.tax_calculations.values()
    # 40.00 + 19 % = 47.60; shipping 5.00 + 19 % = 5.95.
    assert calculation["amount_total"] == 5355
    assert response.json()["amount"] == 5355
    assert response.json()["tax"] == shown(855)
    intent = shop.resources.payment_intents[pi]
    assert intent["amount"] == 5355
    assert intent["metadata"]["tax_calculation"] == calculation["id"]

    pay(shop, client, pi)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID, UnmatchedPayment.objects.values()
    assert order.amount_paid == 5355
    assert (order.tax_computed_by_stripe, order.tax_amount, order.tax_inclusive) == (
        True,
        855,
        False,
    )
    assert order.tax_breakdown == [
        {"name": "VAT (DE)", "rate": "19.0", "amount": 855, "inclusive": False}
    ]
    assert order.lines.get().tax_amount == 760
    assert order.shipping_amount == 595
    invoice = order.invoices.get()
    assert invoice.amount == 5355
    assert invoice.data["taxes"][0]["amount"] == 855
    # One sale recorded with Stripe Tax, from the calculation paid, however often reported.
    [recorded] = shop.requests_to("POST", CREATE_TRANSACTION)
    assert recorded.body["calculation"] == calculation["id"]
    [sale] = TaxTransaction.objects.all()
    assert sale.stripe_id
    assert sale.kind == TaxTransaction.Kind.SALE
    reconcile_pending(older_than=timedelta(0))
    assert len(shop.requests_to("POST", CREATE_TRANSACTION)) == 1


def paid_order(client: Client, shop: FakeStripe, *, quantity: int = 2) -> tuple[Order, str]:
    item = ItemFactory.create(name="Mug", price=Decimal("20.00"), requires_shipping=False)
    order = cart(client, (item.pk, quantity))
    pi = intent_id(start(client, order).json()["client_secret"])
    assert details(client, order).status_code == 200
    pay(shop, client, pi)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order, pi


def test_a_refund_reverses_its_part_of_the_sale_and_a_whole_refund_all_of_it(
    client: Client, shop: FakeStripe
) -> None:
    order, order_pi = paid_order(client, shop)
    assert order.amount_paid == 4760  # 2 × 20.00 + 19 %
    line = order.lines.get()

    refund_order(order_id=order.pk, requested_by="staff", returned=[ReturnedLine(line.pk, 1)])
    run_worker()

    [partial] = shop.requests_to("POST", REVERSE_TRANSACTION)
    assert len(shop.requests_to("POST", CREATE_TRANSACTION)) == 1
    sale_id = TaxTransaction.objects.get(kind="sale").stripe_id
    assert partial.body["original_transaction"] == sale_id
    assert partial.body["mode"] == "partial"
    assert partial.body["flat_amount"] == "-2380"  # the returned unit with its tax
    reversal = TaxTransaction.objects.get(kind="reversal")
    assert (reversal.amount, bool(reversal.stripe_id)) == (2380, True)

    # The refund reported again by Stripe's events reverses nothing more.
    deliver(event("charge.refunded", {"payment_intent": order_pi}))
    run_worker()
    assert len(shop.requests_to("POST", REVERSE_TRANSACTION)) == 1

    other, _ = paid_order(Client(), shop)
    refund_order(order_id=other.pk, requested_by="staff")
    run_worker()
    whole = shop.requests_to("POST", REVERSE_TRANSACTION)[-1]
    assert whole.body["mode"] == "full"
    assert "flat_amount" not in whole.body


def test_a_reversal_stripe_missed_is_sent_by_reconciliation(
    client: Client, shop: FakeStripe
) -> None:
    order, _ = paid_order(client, shop)
    shop.fail_next(status=500, path=REVERSE_TRANSACTION, times=3)
    refund_order(order_id=order.pk, requested_by="staff")
    run_worker()
    assert TaxTransaction.objects.get(kind="reversal").stripe_id == ""

    reconcile_pending()

    assert TaxTransaction.objects.get(kind="reversal").stripe_id


def test_nothing_shipped_the_billing_address_is_taxed(client: Client, shop: FakeStripe) -> None:
    item = ItemFactory.create(name="E-book", price=Decimal("10.00"), requires_shipping=False)
    order = cart(client, (item.pk, 1))
    start(client, order)
    no_address = {key: "" for key in GERMANY}
    refused = details(client, order, **no_address)
    assert refused.status_code == 400
    assert shop.requests_to("POST", "/v1/tax/calculations") == []

    # Anywhere in the world: nothing is sent there.
    response = details(client, order, **{**GERMANY, "country": "CH", "city": "Bern"})

    assert response.status_code == 200, response.content
    [asked] = shop.requests_to("POST", "/v1/tax/calculations")
    assert asked.body["customer_details"]["address_source"] == "billing"
    assert "shipping_cost" not in asked.body
    assert response.json()["amount"] == 1000  # no tax where the shop collects none


def test_an_intent_paid_before_its_tax_was_added_pays_nothing(
    client: Client, shop: FakeStripe
) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("20.00"), requires_shipping=False)
    order = cart(client, (item.pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    # The customer's script confirms at once, skipping the details (and the tax).
    paid = shop.resources.succeed_payment_intent(pi)
    deliver(event("payment_intent.succeeded", paid))

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    [unmatched] = UnmatchedPayment.objects.all()
    assert unmatched.reason == UnmatchedPayment.Reason.AMOUNT_DIFFERS
    assert shop.requests_to("POST", CREATE_TRANSACTION) == []


def test_a_reload_asks_the_tax_again(client: Client, shop: FakeStripe) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("20.00"), requires_shipping=False)
    order = cart(client, (item.pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    assert details(client, order).status_code == 200
    assert shop.resources.payment_intents[pi]["amount"] == 2380

    # The page reloaded: the same intent is kept, without the tax until the address comes again.
    again = start(client, order).json()

    assert intent_id(again["client_secret"]) == pi
    intent = shop.resources.payment_intents[pi]
    assert intent["amount"] == again["amount"] == 2000
    assert "tax_calculation" not in intent["metadata"]
    assert details(client, order).status_code == 200
    assert shop.resources.payment_intents[pi]["amount"] == 2380


COUNTRIES = st.sampled_from(["DE", "GB", "JP", "US", "FR"])
PRICES = {
    "usd": st.integers(125, 50_000),
    "eur": st.integers(125, 50_000),
    "jpy": st.integers(125, 100_000),
}


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_stored_totals_equal_the_calculation_to_the_minor_unit(
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
    client = Client()
    # No rate: digital goods (goods to send need a rate in their currency).
    shipping = data.draw(st.one_of(st.none(), PRICES[currency]), label="shipping")
    items = [
        (
            ItemFactory.create(
                price=Decimal(price).scaleb(-exponent),
                currency=currency,
                requires_shipping=shipping is not None,
            ).pk,
            quantity,
        )
        for price, quantity in lines
    ]
    ShippingRate.objects.update(active=False)
    rate = (
        ShippingRate.objects.create(
            name="Post", amount=Decimal(shipping).scaleb(-exponent), currency=currency
        )
        if shipping is not None
        else None
    )
    order = cart(client, *items)
    percent = data.draw(st.one_of(st.none(), st.integers(1, 60)), label="discount")
    if percent:
        Order.objects.filter(pk=order.pk).update(
            discount=DiscountFactory.create(percent_off=Decimal(percent))
        )
    pi = intent_id(start(client, order).json()["client_secret"])
    country = data.draw(COUNTRIES)
    address = {**GERMANY, "country": country}
    response = details(client, order, **address, shipping_rate=rate.pk if rate else "")
    assert response.status_code == 200, response.content
    calculation = list(shop.resources.tax_calculations.values())[-1]
    pay(shop, client, pi)

    order.refresh_from_db()
    assert order.status == Order.Status.PAID, UnmatchedPayment.objects.values()
    assert order.amount_paid == calculation["amount_total"]
    assert order.tax_amount == (
        calculation["tax_amount_exclusive"] + calculation["tax_amount_inclusive"]
    )
    assert sum(share["amount"] for share in order.tax_breakdown) == order.tax_amount
    shipping_cost = calculation["shipping_cost"] or {"amount": 0, "amount_tax": 0}
    inclusive = bool(settings.SHOP_PRICES_INCLUDE_TAX)
    assert order.shipping_amount == shipping_cost["amount"] + (
        0 if inclusive else shipping_cost["amount_tax"]
    )
    line_taxes = sum(line.tax_amount or 0 for line in order.lines.all())
    assert line_taxes + shipping_cost["amount_tax"] == order.tax_amount
    invoice = order.invoices.get().data
    goods_tax_added = 0 if inclusive else line_taxes
    assert (
        invoice["subtotal"] - invoice["discount"] + goods_tax_added + invoice["shipping"]
        == invoice["total"]
        == calculation["amount_total"]
    )


def test_the_api_refuses_a_payment_intent_it_cannot_tax(client: Client, shop: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create(name="Mug").pk, 1))
    response = client.post(
        f"/api/v1/orders/{order.pk}/payment-intent", content_type="application/json", headers=JSON
    )
    assert response.status_code == 409
    assert response.json()["code"] == "checkout_conflict"
    assert shop.requests_to("POST", "/v1/payment_intents") == []
