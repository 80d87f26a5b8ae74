"""The pay-on-this-page flow: Payment Element page → PaymentIntent on the fake Stripe →
stripe.confirmPayment → our success page, which asks Stripe and shows the order paid."""

import re
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order, ShippingRate
from kassa.payments.models import TaxTransaction
from tests.attempts import intent_of
from tests.conftest import PUBLISHABLE_KEY
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.mail import run_worker
from tests.payments.test_payment_intents import shown
from tests.system.browser.conftest import BrowserRun
from tests.system.browser.test_dashboard import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUCCESS_URL = re.compile(r"/checkout/success/\?payment_intent=pi_")

# Stripe.js as the Payment Element page uses it. elements({clientSecret}) → create("payment") →
# mount(selector) draws a stand-in form; confirmPayment records its arguments and then does what
# Stripe does for a card that needs no extra step: the intent succeeds (on the fake, through
# kassaStandInPay, awaited so it has happened before the browser leaves) and the browser goes to
# return_url with payment_intent and redirect_status appended. Every call is recorded.
STRIPE_JS_PAYMENT_ELEMENT = """
(function () {
  "use strict";
  var record = function (name, payload) { return window.kassaStandInRecord(name, payload); };
  // The Address Element in shipping mode: a name, the street, city, postal code and a country
  // among allowedCountries; getValue() answers as Stripe's does, complete or not.
  function standInAddressElement(options) {
    var box = null;
    var field = function (name) { return box.querySelector("[name=" + name + "]").value.trim(); };
    return {
      mount: function (selector) {
        record("mount", { selector: selector });
        box = document.createElement("div");
        box.id = "stand-in-address-element";
        ["name", "line1", "city", "postal_code"].forEach(function (name) {
          var input = document.createElement("input");
          input.name = name;
          input.setAttribute("aria-label", "stand-in " + name);
          box.appendChild(input);
        });
        var country = document.createElement("select");
        country.name = "country";
        country.setAttribute("aria-label", "stand-in country");
        options.allowedCountries.forEach(function (code) {
          var option = document.createElement("option");
          option.value = option.textContent = code;
          country.appendChild(option);
        });
        box.appendChild(country);
        document.querySelector(selector).appendChild(box);
      },
      getValue: async function () {
        var value = {
          name: field("name"),
          address: {
            line1: field("line1"), line2: null, city: field("city"), state: null,
            postal_code: field("postal_code"), country: field("country"),
          },
        };
        var complete = !!(value.name && value.address.line1 && value.address.city);
        return { complete: complete, value: value };
      },
    };
  }

  window.Stripe = function Stripe(key) {
    record("Stripe", { key: key });
    var clientSecret = null;
    return {
      elements: function (options) {
        record("elements", options);
        clientSecret = options.clientSecret;
        var elements = {
          create: function (type, createOptions) {
            var created = { type: type };
            if (createOptions) created.options = createOptions;
            record("create", created);
            if (type === "address") return standInAddressElement(createOptions);
            return {
              mount: function (selector) {
                record("mount", { selector: selector });
                var box = document.createElement("div");
                box.id = "stand-in-payment-element";
                box.textContent = "Card number (stand-in)";
                document.querySelector(selector).appendChild(box);
              },
            };
          },
          fetchUpdates: async function () {
            await record("fetchUpdates", {});
            return {};
          },
        };
        window.kassaStandInElements = elements;
        return elements;
      },
      confirmPayment: async function (options) {
        await record("confirmPayment", {
          elements_is_ours: options.elements === window.kassaStandInElements,
          confirmParams: options.confirmParams,
        });
        if (window.kassaStandInDecline) {
          return { error: { type: "card_error", message: "Your card was declined." } };
        }
        var intentId = clientSecret.split("_secret_")[0];
        await window.kassaStandInPay(intentId);
        window.location.assign(
          options.confirmParams.return_url + "?payment_intent=" + encodeURIComponent(intentId) +
          "&payment_intent_client_secret=" + encodeURIComponent(clientSecret) +
          "&redirect_status=succeeded"
        );
        return new Promise(function () {});
      },
    };
  };
})();
"""


@pytest.fixture
def payment_run(browser_run: BrowserRun, fake_stripe: FakeStripe) -> BrowserRun:
    browser_run.stripe.stripe_js = STRIPE_JS_PAYMENT_ELEMENT
    paid: list[str] = []

    def pay(intent_id: str) -> None:
        paid.append(intent_id)
        fake_stripe.resources.succeed_payment_intent(intent_id)

    browser_run.page.expose_function("kassaStandInPay", pay)
    return browser_run


def _the_one_intent(fake: FakeStripe) -> dict[str, Any]:
    assert len(fake.requests_to("POST", "/v1/payment_intents")) == 1
    (intent,) = fake.resources.payment_intents.values()
    return intent


def _fill_in(
    page: Page, *, email: str = "ana+shop@example.com", name: str = "Ana Müller", ships: bool = True
) -> None:
    """What the customer types before paying: the e-mail, and the address (in the stand-in
    Address Element) when goods are sent, else their name."""
    page.get_by_label("E-mail").fill(email)
    if not ships:
        page.get_by_label("Name").fill(name)
        return
    page.get_by_label("stand-in name").fill(name)
    page.get_by_label("stand-in line1").fill("Hauptstraße 5")
    page.get_by_label("stand-in city").fill("Berlin")
    page.get_by_label("stand-in postal_code").fill("10115")
    page.get_by_label("stand-in country").select_option("DE")


def _wait_until_ready(page: Page) -> None:
    expect(page.locator("#stand-in-payment-element")).to_be_visible()
    expect(page.locator("#pay")).to_be_enabled()
    expect(page.locator("#payment-loading")).to_be_hidden()


def test_pay_for_an_item_on_the_page(payment_run: BrowserRun, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Walnut bowl", price=Decimal("48.00"), currency="usd")
    page = payment_run.page
    page.goto(payment_run.url(f"/item/{item.pk}/"))

    with page.expect_request(lambda r: r.url.endswith(f"/item/{item.pk}/pay/")):
        page.get_by_role("link", name="Pay by card on this page").click()
    _wait_until_ready(page)

    intent = _the_one_intent(fake_stripe)
    assert intent["amount"] == 4800
    order = Order.objects.get(payment_attempts__stripe_id=intent["id"])
    # The address is now the order's: a reload pays the same order and intent.
    expect(page).to_have_url(payment_run.url(f"/orders/{order.pk}/pay/"))
    payment_run.stripe.calls.clear()
    page.reload()
    _wait_until_ready(page)
    assert _the_one_intent(fake_stripe)["id"] == intent["id"]
    assert Order.objects.count() == 1
    assert intent["metadata"] == {
        "order_id": str(order.pk),
        # The shop's one rate in dollars (the test factory's free one), until the customer picks.
        "shipping_rate_id": str(ShippingRate.objects.get().pk),
        "shipping_amount": "0",
        "shipping_method": "Free shipping",
    }
    assert payment_run.stripe.calls == [
        ("Stripe", {"key": PUBLISHABLE_KEY}),
        ("elements", {"clientSecret": intent["client_secret"], "locale": "en"}),
        ("create", {"type": "payment"}),
        ("mount", {"selector": "#payment-element"}),
        (
            "create",
            {
                "type": "address",
                "options": {
                    "mode": "shipping",
                    "allowedCountries": django_settings.SHOP_SHIPPING_COUNTRIES,
                },
            },
        ),
        ("mount", {"selector": "#address-element"}),
    ]
    pay = page.get_by_role("button", name=f"Pay {shown(4800)}")
    expect(pay).to_be_visible()
    _fill_in(page)
    payment_run.screenshot("pay-item")

    with page.expect_navigation(url=SUCCESS_URL):
        pay.dblclick()  # an impatient customer: still one confirmation

    assert payment_run.stripe.calls_to("confirmPayment") == [
        {
            "elements_is_ours": True,
            "confirmParams": {"return_url": payment_run.url("/checkout/success/")},
        }
    ]
    expect(page.locator("h1")).to_have_text("Thank you! Your payment went through.")
    expect(page.locator("main")).to_contain_text(f"#{order.pk}")
    expect(page.locator("main")).to_contain_text(shown(4800))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_paid == 4800
    assert len(fake_stripe.resources.payment_intents) == 1
    assert payment_run.page_errors == []
    payment_run.screenshot("pay-item-success")


def test_pay_for_an_order_with_discount_and_tax(
    payment_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("19.99"))
    page = payment_run.page
    page.goto(payment_run.url(f"/item/{item.pk}/"))
    page.locator("#quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    order = Order.objects.get()
    order.discount = DiscountFactory.create(name="Welcome", percent_off=Decimal("15"))
    order.tax = TaxFactory.create(name="VAT", percentage=Decimal("20"), inclusive=False)
    order.save()
    page.goto(payment_run.url(f"/orders/{order.pk}/"))
    expect(page.locator("#total")).to_have_text(shown(6116))

    page.get_by_role("link", name="Pay by card on this page").click()
    _wait_until_ready(page)
    expect(page.locator("#pay-total")).to_have_text(shown(6116))

    assert _the_one_intent(fake_stripe)["amount"] == 6116
    _fill_in(page)
    with page.expect_navigation(url=SUCCESS_URL):
        page.get_by_role("button", name=f"Pay {shown(6116)}").click()
    expect(page.locator("h1")).to_have_text("Thank you! Your payment went through.")
    expect(page.locator("main")).to_contain_text(shown(6116))
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (Order.Status.PAID, 6116)
    assert payment_run.page_errors == []


def test_a_declined_card_is_explained_and_the_customer_can_retry(
    payment_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    page = payment_run.page
    page.goto(payment_run.url(f"/item/{item.pk}/pay/"))
    _wait_until_ready(page)
    pay, error = page.locator("#pay"), page.locator("#payment-error")
    label = pay.inner_text()
    page.evaluate("window.kassaStandInDecline = true")
    _fill_in(page)

    pay.click()

    expect(error).to_have_text("Your card was declined.")
    expect(error).to_have_attribute("role", "alert")
    expect(pay).to_be_enabled()
    expect(pay).to_have_text(label)
    assert page.url == payment_run.url(f"/orders/{Order.objects.get().pk}/pay/")  # still here
    intent = _the_one_intent(fake_stripe)
    assert intent["status"] == "requires_payment_method"

    page.evaluate("window.kassaStandInDecline = false")
    with page.expect_navigation(url=SUCCESS_URL):
        pay.click()
    expect(page.locator("h1")).to_have_text("Thank you! Your payment went through.")
    assert len(payment_run.stripe.calls_to("confirmPayment")) == 2
    assert Order.objects.get().status == Order.Status.PAID
    assert payment_run.page_errors == []


def test_stripe_failing_shows_a_plain_error_and_the_customer_can_try_again(
    payment_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(price=Decimal("12.34"))
    fake_stripe.fail_next(status=500, times=10)
    page = payment_run.page

    with page.expect_response(lambda r: "/payment-intent/" in r.url) as answer:
        page.goto(payment_run.url(f"/item/{item.pk}/pay/"))
    assert answer.value.status == 503

    expect(page.get_by_role("alert")).to_have_text(
        "The payment provider is having trouble right now. Please try again in a minute."
    )
    expect(page.locator("#payment-loading")).to_be_hidden()
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_enabled()
    assert payment_run.stripe.calls_to("elements") == []
    assert not Order.objects.exists()
    payment_run.screenshot("pay-stripe-error")

    # Stripe recovers: the same page, without reloading, now takes the payment.
    fake_stripe.reset()
    retry.click()
    _wait_until_ready(page)
    expect(page.get_by_role("alert")).to_be_hidden()
    intent = _the_one_intent(fake_stripe)
    _fill_in(page)
    with page.expect_navigation(url=SUCCESS_URL):
        page.get_by_role("button", name=f"Pay {shown(1234)}").click()
    expect(page.locator("h1")).to_have_text("Thank you! Your payment went through.")
    assert intent_of(Order.objects.get()) == intent["id"]
    assert Order.objects.get().status == Order.Status.PAID
    assert payment_run.page_errors == []


def test_without_stripe_js_the_page_says_so(
    payment_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    payment_run.stripe.stripe_js = "/* loaded, but defines nothing */"
    item = ItemFactory.create()
    page = payment_run.page

    page.goto(payment_run.url(f"/item/{item.pk}/pay/"))

    expect(page.get_by_role("alert")).to_contain_text("The card form could not be loaded")
    expect(page.locator("#pay")).to_be_disabled()
    expect(page.locator("#pay")).not_to_have_attribute("aria-busy", "true")
    # Nothing was started that the customer cannot pay.
    assert fake_stripe.requests == []
    assert not Order.objects.exists()


def test_without_keys_the_pay_page_says_so(
    payment_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    item = ItemFactory.create()
    page = payment_run.page

    page.goto(payment_run.url(f"/item/{item.pk}/pay/"))

    expect(page.locator("#payments-off")).to_contain_text("Payments are not configured")
    expect(page.locator("#pay")).to_have_count(0)
    assert payment_run.stripe.stripe_js_requests == []
    assert fake_stripe.requests == []
    assert payment_run.page_errors == []


def test_the_card_form_asks_the_address_and_shipping_and_the_admin_shows_them(
    payment_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "US"]
    ShippingRate.objects.create(
        name="Post", amount=Decimal("5.00"), currency="usd", min_days=3, max_days=5
    )
    courier = ShippingRate.objects.create(name="Courier", amount=Decimal("15.00"), currency="usd")
    ShippingRate.objects.create(name="Euro post", amount=Decimal("4.00"), currency="eur")
    item = ItemFactory.create(name="Walnut bowl", price=Decimal("40.00"), currency="usd")
    page = payment_run.page
    page.goto(payment_run.url(f"/item/{item.pk}/pay/"))
    _wait_until_ready(page)

    # The cheapest is chosen, and the intent asks for it, until the customer picks another.
    rates = page.locator("#shipping-rates")
    expect(rates.get_by_role("radio")).to_have_count(2)  # the euro rate is not this order's
    expect(rates.get_by_label(f"Post — {shown(500)} (3–5 days)")).to_be_checked()
    expect(page.locator("#pay")).to_have_text(f"Pay {shown(4500)}")
    expect(page.locator("#pay-total")).to_have_text(shown(4500))  # the goods and that shipping
    assert _the_one_intent(fake_stripe)["amount"] == 4500
    rates.get_by_label(f"Courier — {shown(1500)}").check()
    expect(page.locator("#pay")).to_have_text(f"Pay {shown(5500)}")
    expect(page.locator("#pay-total")).to_have_text(shown(5500))
    # The Address Element asks the name; no phone is wanted (SHOP_COLLECT_PHONE is off).
    expect(page.get_by_label("Name", exact=True)).to_be_hidden()
    expect(page.get_by_label("Phone")).to_be_hidden()
    _fill_in(page)
    payment_run.screenshot("pay-item-shipping")

    # Staff take the courier off while the customer is on the page: the shop refuses it, and
    # nothing is confirmed at Stripe.
    courier.active = False
    courier.save()  # as the admin saves it: new checkouts stop offering it at once
    page.locator("#pay").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This shipping method is not offered for this order."
    )
    expect(page.locator("#pay")).to_be_enabled()
    assert payment_run.stripe.calls_to("confirmPayment") == []
    assert _the_one_intent(fake_stripe)["amount"] == 4500

    courier.active = True
    courier.save()
    with page.expect_navigation(url=SUCCESS_URL):
        page.get_by_role("button", name=f"Pay {shown(5500)}").click()
    expect(page.locator("h1")).to_have_text("Thank you! Your payment went through.")
    # The amount changed at the shop before confirming: the Payment Element was told.
    assert len(payment_run.stripe.calls_to("fetchUpdates")) == 1
    intent = _the_one_intent(fake_stripe)
    # The e-mail travels in the metadata: Stripe sends no receipt of its own beside the shop's
    # (SHOP_STRIPE_RECEIPTS off).
    assert (intent["amount"], intent["receipt_email"]) == (5500, None)
    assert intent["metadata"]["customer_email"] == "ana+shop@example.com"
    assert intent["shipping"]["address"]["city"] == "Berlin"
    order = Order.objects.get()
    assert (order.status, order.amount_paid, order.shipping_amount) == (
        Order.Status.PAID,
        5500,
        1500,
    )
    assert payment_run.page_errors == []

    log_in(page, payment_run)
    page.goto(payment_run.url(f"/admin/orders/order/{order.pk}/change/"))
    for text in ("ana+shop@example.com", "Ana Müller", "Hauptstraße 5", "10115 Berlin", "Courier"):
        expect(page.locator("#content")).to_contain_text(text)
    payment_run.screenshot("admin-order-paid-on-the-page")


def test_digital_goods_ask_the_name_and_phone_and_no_address(
    payment_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_COLLECT_PHONE = True
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    item = ItemFactory.create(price=Decimal("9.00"), currency="usd", requires_shipping=False)
    page = payment_run.page
    page.goto(payment_run.url(f"/item/{item.pk}/pay/"))
    _wait_until_ready(page)

    expect(page.locator("#shipping-fields")).to_be_hidden()
    expect(page.locator("#shipping-rates")).to_be_hidden()
    assert [c["type"] for c in payment_run.stripe.calls_to("create")] == ["payment"]
    _fill_in(page, email="eve@example.com", name="<b>Eve</b>", ships=False)
    pay = page.get_by_role("button", name=f"Pay {shown(900)}")
    pay.click()
    # The phone is wanted: the browser asks for it before anything is sent.
    expect(page.locator("#pay-phone:invalid")).to_have_count(1)
    assert not fake_stripe.requests_to(
        "POST", f"/v1/payment_intents/{_the_one_intent(fake_stripe)['id']}"
    )
    assert payment_run.stripe.calls_to("confirmPayment") == []
    page.get_by_label("Phone").fill("+49 30 1234")
    with page.expect_navigation(url=SUCCESS_URL):
        pay.click()

    order = Order.objects.get()
    assert (order.status, order.amount_paid) == (Order.Status.PAID, 900)
    assert (order.email, order.customer_name, order.phone) == (
        "eve@example.com",
        "<b>Eve</b>",
        "+49 30 1234",
    )
    assert order.fulfilment_status == Order.Fulfilment.NOT_REQUIRED
    assert payment_run.page_errors == []


def test_with_stripe_tax_the_customer_sees_the_tax_before_paying_it(
    payment_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_TAX = "stripe"
    settings.SHOP_PRICES_INCLUDE_TAX = []
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "US"]
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    item = ItemFactory.create(name="Walnut bowl", price=Decimal("40.00"), currency="usd")
    page = payment_run.page
    page.goto(payment_run.url(f"/item/{item.pk}/pay/"))
    _wait_until_ready(page)
    expect(page.locator("#pay")).to_have_text(f"Pay {shown(4500)}")
    _fill_in(page)
    page.get_by_label("Tell me about offers").check()
    page.get_by_label("Company (optional, for the invoice)").fill("Acme GmbH")

    # The first press works out the tax for Berlin and charges nothing yet.
    page.locator("#pay").click()
    # 40.00 + 19 % = 47.60; shipping 5.00 + 19 % = 5.95.
    expect(page.locator("#pay-tax-notice")).to_have_text(
        f"Tax for your address: {shown(855)}. The total is {shown(5355)}."
    )
    expect(page.locator("#pay")).to_have_text(f"Pay {shown(5355)}")
    expect(page.locator("#pay-total")).to_have_text(shown(5355))
    assert fake_stripe.resources.payment_intents[_the_one_intent(fake_stripe)["id"]]["status"] == (
        "requires_payment_method"
    )
    payment_run.screenshot("pay-item-stripe-tax")

    page.locator("#pay").click()
    page.wait_for_url(SUCCESS_URL)
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    assert (order.amount_paid, order.tax_amount, order.buyer_company) == (5355, 855, "Acme GmbH")
    intent = _the_one_intent(fake_stripe)
    assert intent["metadata"]["promotions_consent"] == "opt_in"
    run_worker()  # the worker sends the sale to Stripe Tax
    assert len(fake_stripe.requests_to("POST", "/v1/tax/transactions/create_from_calculation")) == 1

    # Staff see the tax Stripe computed and the sale Stripe Tax recorded.
    log_in(page, payment_run)
    page.goto(payment_run.url(f"/admin/orders/order/{order.pk}/change/"))
    content = page.locator("#content")
    expect(content).to_contain_text("Tax transactions")
    expect(content).to_contain_text(TaxTransaction.objects.get().stripe_id)
    expect(content).to_contain_text(shown(855))
    payment_run.screenshot("admin-order-card-page-stripe-tax")
