"""The PaymentIntent flow: POST …/payment-intent/ and the pay pages, against the fake Stripe."""

import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.installation import installation_id
from kassa.common.money import format_amount, from_minor
from kassa.orders.models import Order, ShippingRate
from kassa.stripe_api.client import API_VERSION
from tests.attempts import intent_of, session_of
from tests.conftest import PUBLISHABLE_KEY, SECRET_KEY
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.html import csrf_token_in
from tests.payments.test_order_checkout import JSON, cart

pytestmark = pytest.mark.django_db
CREATE = ("POST", "/v1/payment_intents")


def shown(minor: int, currency: str = "usd") -> str:
    """An amount as the pages show it (in the active language)."""
    return format_amount(from_minor(minor, currency), currency)


def start(client: Client, order: Order) -> Any:
    return client.post(f"/orders/{order.pk}/payment-intent/", headers=JSON)


def intent_id(client_secret: str) -> str:
    return client_secret.split("_secret_")[0]


def discounted_taxed_order(client: Client) -> Order:
    order = cart(client, (ItemFactory.create(name="Mug", price=Decimal("19.99")).pk, 3))
    order.discount = DiscountFactory.create(name="Welcome", percent_off=Decimal("15"))
    order.tax = TaxFactory.create(name="VAT", percentage=Decimal("20"), inclusive=False)
    order.save()
    return order


def test_the_intent_is_for_exactly_the_total_shown(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    order = discounted_taxed_order(client)
    page = client.get(f"/orders/{order.pk}/", headers=JSON).json()

    response = start(client, order)

    assert response.status_code == 200, response.content
    [created] = fake_stripe.requests_to(*CREATE)
    # 59.97 − 15% (9.00) = 50.97; + 20% VAT (10.19) = 61.16
    assert page["total"]["amount"] == 6116
    assert created.params == {
        "amount": "6116",
        "currency": "usd",
        "automatic_payment_methods[enabled]": "true",
        "metadata[order_id]": str(order.pk),
        # The shop's one rate in dollars (the factory's free one), until the customer chooses.
        "metadata[shipping_rate_id]": str(ShippingRate.objects.get().pk),
        "metadata[shipping_amount]": "0",
        "metadata[shipping_method]": "Free shipping",
        "description": f"Kassa order #{order.pk}",
    }
    assert created.api_key == SECRET_KEY
    assert created.stripe_version == API_VERSION
    assert created.idempotency_key == f"{installation_id()}-kassa-payment-intent-{order.pk}-1"
    [intent] = fake_stripe.resources.payment_intents.values()
    body = response.json()
    # What the page asks before paying (tests/payments/test_payment_details.py): the one rate,
    # free.
    assert body.pop("customer") == {
        "details_url": f"/orders/{order.pk}/payment-details/",
        "email": "",
        "collect_phone": False,
        "needs_shipping": True,
        "needs_address": True,
        "tax_by_stripe": False,  # the shop's own rate: no tax to add for an address
        "countries": settings.SHOP_SHIPPING_COUNTRIES,
        "shipping_options": [
            {
                "id": ShippingRate.objects.get().pk,
                "name": "Free shipping",
                "price": "Free",
                "estimate": "",
                "total": shown(6116),
                "amount": 6116,
                "pay_label": f"Pay {shown(6116)}",
            }
        ],
        "address": None,  # no signed-in customer's address to start with
        "total": shown(6116),
        "amount": 6116,
        "pay_label": f"Pay {shown(6116)}",
    }
    assert body == {
        "client_secret": intent["client_secret"],
        "publishable_key": "pk_test_default_account",
        "amount": 6116,
        "currency": "usd",
        "order_id": order.pk,
        "return_url": "http://testserver/checkout/success/",
        "pay_url": f"/orders/{order.pk}/pay/",
        "intent_url": f"/orders/{order.pk}/payment-intent/",
    }
    # A PaymentIntent carries the amount itself: no Coupon or Tax Rate is made for it.
    assert fake_stripe.requests_to("POST", "/v1/coupons") == []
    assert fake_stripe.requests_to("POST", "/v1/tax_rates") == []
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert intent_of(order) == intent["id"]
    assert session_of(order) == ""


@pytest.mark.parametrize(
    ("currency", "price", "minor"),
    [("jpy", Decimal("1800"), "1800"), ("kwd", Decimal("4.5"), "4500")],
)
def test_amounts_are_in_the_currencys_minor_units(
    client: Client, fake_stripe: FakeStripe, currency: str, price: Decimal, minor: str
) -> None:
    order = cart(client, (ItemFactory.create(currency=currency, price=price).pk, 1))
    assert start(client, order).status_code == 200
    [created] = fake_stripe.requests_to(*CREATE)
    assert (created.params["amount"], created.params["currency"]) == (minor, currency)


def test_a_three_decimal_currency_is_charged_in_tens_of_its_minor_unit(
    client: Client, fake_stripe: FakeStripe
) -> None:
    # 1.230 KWD, 16% off (196.8 fils) and 10% tax on the rest (103.32 fils): to the fil these
    # give 1230 - 197 + 103 = 1136, which Stripe refuses in KWD; to tens of fils,
    # 1230 - 200 + 100 = 1130.
    order = cart(client, (ItemFactory.create(currency="kwd", price=Decimal("1.23")).pk, 1))
    order.discount = DiscountFactory.create(percent_off=Decimal("16"))
    order.tax = TaxFactory.create(percentage=Decimal("10"), inclusive=False)
    order.save()

    assert start(client, order).status_code == 200

    [created] = fake_stripe.requests_to(*CREATE)
    assert created.params["amount"] == "1130"


def test_one_intent_per_order(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 2))

    first = start(client, order).json()
    second = start(client, order).json()

    assert second == first
    assert len(fake_stripe.requests_to(*CREATE)) == 1
    [intent] = fake_stripe.resources.payment_intents.values()
    assert intent["status"] == "requires_payment_method"  # kept, not cancelled
    # The amount did not change, so the intent was only read, never written.
    assert fake_stripe.requests_to("POST", f"/v1/payment_intents/{intent['id']}") == []
    order.refresh_from_db()
    assert intent_of(order) == intent["id"]


def test_an_amount_change_updates_the_same_intent(client: Client, fake_stripe: FakeStripe) -> None:
    order = discounted_taxed_order(client)
    first = start(client, order).json()
    assert first["amount"] == 6116
    # Staff change the tax while the customer is on the payment page.
    tax = order.tax
    assert tax is not None
    tax.percentage = Decimal("10")
    tax.save()
    shown = client.get(f"/orders/{order.pk}/", headers=JSON).json()

    second = start(client, order).json()

    pi = intent_id(first["client_secret"])
    assert intent_id(second["client_secret"]) == pi
    assert len(fake_stripe.requests_to(*CREATE)) == 1
    [update] = fake_stripe.requests_to("POST", f"/v1/payment_intents/{pi}")
    # 50.97 + 10% (5.10) = 56.07
    assert shown["total"]["amount"] == 5607
    assert update.params == {
        "amount": "5607",
        "metadata[order_id]": str(order.pk),
        "metadata[shipping_rate_id]": str(ShippingRate.objects.get().pk),
        "metadata[shipping_amount]": "0",
        "metadata[shipping_method]": "Free shipping",
        # Nor the tax of a Stripe Tax calculation (none here: the shop's rate is in the goods).
        "metadata[tax_calculation]": "",
        "metadata[tax_amount]": "",
        "metadata[tax_added]": "",
        "metadata[tax_inclusive]": "",
        "metadata[tax]": "",
    }
    assert update.idempotency_key == f"{installation_id()}-kassa-payment-intent-amount-{order.pk}-2"
    assert second["amount"] == 5607
    assert fake_stripe.resources.payment_intents[pi]["amount"] == 5607


def test_a_cancelled_intent_is_replaced(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    first = intent_id(start(client, order).json()["client_secret"])
    fake_stripe.resources.payment_intents[first]["status"] = "canceled"  # e.g. in the Dashboard

    second = intent_id(start(client, order).json()["client_secret"])

    assert second != first
    order.refresh_from_db()
    assert intent_of(order) == second


def test_checkout_then_payment_intent_expires_the_session(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]

    response = start(client, order)

    assert response.status_code == 200
    assert fake_stripe.resources.checkout_sessions[session_id]["status"] == "expired"
    order.refresh_from_db()
    assert session_of(order) == ""
    assert intent_of(order) == intent_id(response.json()["client_secret"])


def test_payment_intent_then_checkout_cancels_the_intent(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])

    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]

    assert fake_stripe.resources.payment_intents[pi]["status"] == "canceled"
    order.refresh_from_db()
    assert session_of(order) == session_id
    assert intent_of(order) == ""

    # And back again: the cancelled intent is not revived; the session is expired.
    again = intent_id(start(client, order).json()["client_secret"])
    assert again != pi
    assert fake_stripe.resources.checkout_sessions[session_id]["status"] == "expired"
    payable = [
        i for i in fake_stripe.resources.payment_intents.values() if i["status"] != "canceled"
    ]
    assert [i["id"] for i in payable] == [again]


def test_editing_the_order_cancels_its_intent(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])

    client.post(f"/orders/{order.pk}/reopen/")

    assert fake_stripe.resources.payment_intents[pi]["status"] == "canceled"
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert intent_of(order) == ""


def test_buying_one_item_makes_a_one_line_order(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Walnut bowl", price=Decimal("48.00"))

    response = client.post(f"/item/{item.pk}/payment-intent", headers=JSON)  # no slash: same

    assert response.status_code == 200, response.content
    body = response.json()
    order = Order.objects.get(pk=body["order_id"])
    assert [(line.item, line.quantity) for line in order.lines.all()] == [(item, 1)]
    assert body["amount"] == 4800
    [created] = fake_stripe.requests_to(*CREATE)
    assert created.params["metadata[order_id]"] == str(order.pk)
    assert intent_of(order) == intent_id(body["client_secret"])
    # The order is the visitor's own.
    assert client.get(f"/orders/{order.pk}/", headers=JSON).status_code == 200


def test_a_stranger_gets_404(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    stranger = Client()

    answers = [
        stranger.post(f"/orders/{order.pk}/payment-intent/", headers=JSON),
        stranger.post(f"/orders/{order.pk}/payment-intent/"),  # JSON even without Accept
        client.post("/orders/999999/payment-intent/"),
        client.post("/orders/abc/payment-intent/"),
    ]

    for answer in answers:
        assert answer.status_code == 404
        assert answer.json() == {"error": "There is no such order.", "code": "not_found"}
    assert client.post("/item/999999/payment-intent/").json() == {
        "error": "There is no such item.",
        "code": "not_found",
    }
    assert stranger.get(f"/orders/{order.pk}/pay/").status_code == 404
    assert fake_stripe.requests == []
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


def test_the_endpoints_are_post_only(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    assert client.get(f"/orders/{order.pk}/payment-intent/").status_code == 405
    assert client.get(f"/item/{order.lines.get().item_id}/payment-intent/").status_code == 405
    assert fake_stripe.requests == []


def test_csrf_is_enforced_and_the_page_supplies_the_token(fake_stripe: FakeStripe) -> None:
    browser = Client(enforce_csrf_checks=True)
    item = ItemFactory.create()

    refused = browser.post(f"/item/{item.pk}/payment-intent/", headers=JSON)
    assert refused.status_code == 403
    assert fake_stripe.requests == []
    assert not Order.objects.exists()

    token = csrf_token_in(browser.get(f"/item/{item.pk}/pay/").text)
    accepted = browser.post(
        f"/item/{item.pk}/payment-intent/", headers={**JSON, "X-CSRFToken": token}
    )
    assert accepted.status_code == 200
    order = Order.objects.get()
    refused_again = Client(enforce_csrf_checks=True).post(f"/orders/{order.pk}/payment-intent/")
    assert refused_again.status_code == 403


def test_stripe_failing_gives_503_json_and_reopens_the_order(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    fake_stripe.fail_next(status=503, times=10)

    response = start(client, order)

    assert response.status_code == 503
    assert response.json() == {
        "error": "The payment provider is having trouble right now. Please try again in a minute.",
        "code": "payment_provider_unavailable",
    }
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert intent_of(order) == ""


def test_stripe_failing_for_one_item_leaves_no_order(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    fake_stripe.drop_next(times=10)

    response = client.post(f"/item/{item.pk}/payment-intent/", headers=JSON)

    assert response.status_code == 503
    assert "cannot be reached" in response.json()["error"]
    assert not Order.objects.exists()


def test_stripe_failing_on_return_keeps_the_order_on_its_intent(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    fake_stripe.fail_next(status=500, times=10)

    response = start(client, order)

    assert response.status_code == 503
    order.refresh_from_db()
    # Still its one payable attempt: neither reopened for editing nor left without an intent.
    assert order.status == Order.Status.PENDING
    assert intent_of(order) == pi
    assert fake_stripe.resources.payment_intents[pi]["status"] == "requires_payment_method"


def test_without_keys_nothing_is_asked_of_stripe(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    order = cart(client, (ItemFactory.create().pk, 1))

    response = start(client, order)

    assert response.status_code == 503
    assert response.json() == {
        "error": "Payments are not configured for this shop yet.",
        "code": "payments_not_configured",
    }
    assert fake_stripe.requests == []
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


def test_a_free_order_is_refused_plainly(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    order.discount = DiscountFactory.create(percent_off=Decimal("100"))
    order.save()

    response = start(client, order)

    assert response.status_code == 409
    assert "costs nothing" in response.json()["error"]
    assert fake_stripe.requests == []
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    page = client.get(f"/orders/{order.pk}/pay/").text
    assert 'id="pay-free"' in page  # the page says so instead of offering a Pay button
    assert 'id="payment-form"' not in page


def test_an_empty_order_is_refused(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    client.post(f"/orders/{order.pk}/lines/{order.lines.get().pk}/", {"remove": "1"})

    response = start(client, order)

    assert response.status_code == 409
    assert "empty" in response.json()["error"]
    assert fake_stripe.requests == []


def test_the_success_page_marks_the_order_paid_without_a_webhook(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = discounted_taxed_order(client)
    body = start(client, order).json()
    pi = intent_id(body["client_secret"])
    return_url = f"{body['return_url']}?payment_intent={pi}&redirect_status=succeeded"

    # The URL alone proves nothing: while Stripe still processes it, the order is not paid.
    fake_stripe.resources.payment_intents[pi]["status"] = "processing"
    early = client.get(return_url)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert "being confirmed" in early.text

    fake_stripe.resources.succeed_payment_intent(pi)
    page = client.get(return_url)

    assert page.status_code == 200
    assert "Your payment went through" in page.text
    assert shown(6116) in page.text
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_paid == 6116
    assert intent_of(order) == pi


def test_a_paid_order_gets_no_new_intent(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    # Paid on Stripe, but neither the webhook nor the customer's return has told us yet.
    fake_stripe.resources.succeed_payment_intent(pi)

    response = start(client, order)

    assert response.status_code == 409
    assert "already been paid" in response.json()["error"]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # found paid while checking, so recorded
    again = start(client, order)
    assert again.status_code == 409
    assert len(fake_stripe.requests_to(*CREATE)) == 1


def test_a_processing_payment_is_not_disturbed(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    fake_stripe.resources.payment_intents[pi]["status"] = "processing"

    checkout = client.get(f"/orders/{order.pk}/buy/")
    response = start(client, order)

    assert checkout.status_code == response.status_code == 409
    assert "being processed" in response.json()["error"]
    assert fake_stripe.resources.checkout_sessions == {}
    assert fake_stripe.resources.payment_intents[pi]["status"] == "processing"
    order.refresh_from_db()
    assert intent_of(order) == pi


# --- the pages ---------------------------------------------------------------------------------


def test_the_item_page_offers_paying_on_the_page(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Walnut bowl", price=Decimal("48.00"))

    item_page = client.get(f"/item/{item.pk}/")
    pay_page = client.get(f"/item/{item.pk}/pay")

    assert f'href="/item/{item.pk}/pay/"' in item_page.text
    assert "Pay by card on this page" in item_page.text
    assert pay_page.status_code == 200
    html = pay_page.text
    assert 'id="payment-form"' in html
    assert f'data-intent-url="/item/{item.pk}/payment-intent/"' in html
    assert f'data-stripe-key="{PUBLISHABLE_KEY}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'role="alert"' in html
    assert f"Pay {shown(4800)}" in html
    assert '<script src="https://js.stripe.com/v3/" defer></script>' in html
    assert '<script src="/static/kassa/payment-element.js" defer></script>' in html
    # Every script is a file: the CSP forbids inline ones.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    # Showing the page writes nothing and asks Stripe nothing.
    assert fake_stripe.requests == []
    assert not Order.objects.exists()


def test_the_order_page_offers_paying_on_the_page(client: Client, fake_stripe: FakeStripe) -> None:
    order = discounted_taxed_order(client)

    detail = client.get(f"/orders/{order.pk}/")
    pay_page = client.get(f"/orders/{order.pk}/pay/")

    assert f'href="/orders/{order.pk}/pay/"' in detail.text
    assert pay_page.status_code == 200
    assert f'data-intent-url="/orders/{order.pk}/payment-intent/"' in pay_page.text
    assert f"Pay {shown(6116)}" in pay_page.text
    assert fake_stripe.requests == []


def test_the_pay_page_of_a_paid_order_offers_nothing_to_pay(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    pi = intent_id(start(client, order).json()["client_secret"])
    fake_stripe.resources.succeed_payment_intent(pi)
    client.get(f"/checkout/success/?payment_intent={pi}")

    page = client.get(f"/orders/{order.pk}/pay/")

    assert "has been paid" in page.text
    assert 'id="payment-form"' not in page.text
    assert "payment-element.js" not in page.text
    assert "Pay by card" not in client.get(f"/orders/{order.pk}/").text


def test_without_keys_the_pay_page_says_so(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    item = ItemFactory.create()

    page = client.get(f"/item/{item.pk}/pay/")

    assert page.status_code == 200
    assert "Payments are not configured" in page.text
    assert 'id="payment-form"' not in page.text
    assert 'src="https://js.stripe.com' not in page.text
    assert "Pay by card" not in client.get(f"/item/{item.pk}/").text


def test_a_declined_payment_says_so_and_offers_to_try_again(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = discounted_taxed_order(client)
    body = start(client, order).json()
    pi = intent_id(body["client_secret"])
    # A card declined after a redirect (3-D Secure): the intent wants another payment method.
    page = client.get(f"{body['return_url']}?payment_intent={pi}&redirect_status=failed")

    assert "The payment did not go through" in page.text
    assert f'href="/orders/{order.pk}/pay/"' in page.text
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_a_code_switched_off_in_the_cart_is_not_charged_by_the_intent(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("10.00")).pk, 1))
    order.discount = DiscountFactory.create(percent_off=Decimal("10"), active=False)
    order.save()

    refused = start(client, order)
    assert refused.status_code == 409
    assert fake_stripe.requests_to(*CREATE) == []
    order.discount = None
    order.save()
    assert start(client, order).status_code == 200

    [created] = fake_stripe.requests_to(*CREATE)
    assert created.params["amount"] == "1000"
    assert client.get(f"/orders/{order.pk}/", headers=JSON).json()["total"]["amount"] == 1000
