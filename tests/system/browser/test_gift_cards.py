"""A gift card in the browser: typed in the cart's code box beside a discount, shown with what
it pays and what is left; an order it pays in full asks a guest's e-mail beside Buy and goes to
the success page without Stripe.
The recipient's e-mail is looked at too."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kassa.giftcards import ledger
from kassa.notifications.messages import build
from kassa.notifications.models import Mail
from kassa.orders.models import Order
from tests.factories import DiscountFactory, ItemFactory
from tests.fake_stripe import FakeStripe
from tests.system.browser.conftest import BrowserRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_gift_card_pays_the_cart_in_the_browser(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    mug = ItemFactory.create(name="Ceramic mug", price=Decimal("34.00"), requires_shipping=False)
    card, code = ledger.issue(amount=5000, currency="usd")
    DiscountFactory.create(name="WELCOME10", code="WELCOME10", percent_off=Decimal("10"))
    page = browser_run.page
    page.goto(f"/item/{mug.pk}/")
    page.get_by_role("button", name="Add to cart").click()
    order = Order.objects.get()

    page.get_by_label("Discount or gift card code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    page.get_by_label("Gift card code").fill(code.lower())
    page.get_by_role("button", name="Apply").click()

    expect(page.locator("tr.gift-card")).to_contain_text(f"Gift card ••••{card.last4}")
    expect(page.locator(".gift-card-amount")).to_have_text("−$30.60")  # 34.00 − 10%
    expect(page.locator("#amount-due")).to_have_text("$0.00")
    browser_run.screenshot("cart-with-gift-card")

    calls = len(fake_stripe.requests)
    # No Stripe page will ask this guest's e-mail: the cart does, and Buy waits for it.
    email = page.get_by_label("Your e-mail, for the order's confirmation")
    page.locator("#buy").click()
    expect(page.locator("#buy-email:invalid")).to_have_count(1)
    assert Order.objects.get().status == Order.Status.OPEN
    email.fill("ada@example.com")
    email.press("Enter")
    expect(
        page.get_by_role("heading", name="Thank you! Your payment went through.")
    ).to_be_visible()
    assert len(fake_stripe.requests) == calls  # no Stripe call at all
    order.refresh_from_db()
    assert (order.status, order.email) == (Order.Status.PAID, "ada@example.com")
    assert Mail.objects.filter(order=order, kind=Mail.Kind.CONFIRMATION).count() == 1
    card.refresh_from_db()
    assert card.balance == 1940


def test_a_gift_card_is_bought_for_someone_on_its_item_page(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(
        name="Gift card 50", price=Decimal("50.00"), is_gift_card=True, requires_shipping=False
    )
    page = browser_run.page
    page.goto(f"/item/{item.pk}/")
    page.get_by_label("Their name").fill("Sam")
    page.get_by_label("Their e-mail").fill("sam@example.com")
    page.get_by_label("Your message").fill("Happy birthday!")
    page.get_by_label("Send it on").fill("2031-05-04")
    browser_run.screenshot("gift-card-item-page")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text("Gift card 50 is in your cart.")).to_be_visible()
    line = Order.objects.get().lines.get()
    recipient = line.gift_card_recipient
    assert (recipient.recipient_email, recipient.message, str(recipient.send_on)) == (
        "sam@example.com",
        "Happy birthday!",
        "2031-05-04",
    )


def test_a_gift_card_paying_part_leaves_the_rest_to_stripe_in_the_browser(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    lamp = ItemFactory.create(name="Desk lamp", price=Decimal("79.90"), requires_shipping=False)
    _card, code = ledger.issue(amount=2500, currency="usd")
    page = browser_run.page
    page.goto(f"/item/{lamp.pk}/")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_label("Discount or gift card code").fill(code)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#amount-due")).to_have_text("$54.90")
    browser_run.screenshot("cart-with-gift-card-partial")


def test_the_gift_card_email_as_the_recipient_sees_it(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(
        name="Gift card 50", price=Decimal("50.00"), is_gift_card=True, requires_shipping=False
    )
    order = Order.objects.create(currency="usd", email="ada@example.com", customer_name="Ada")
    order.lines.create(item=item, quantity=1, unit_price=item.price)
    _card, code = ledger.issue(amount=5000, currency="usd", order=order)
    mail = Mail.objects.create(
        key="gift-card:test",
        kind=Mail.Kind.GIFT_CARD,
        order=order,
        language="en",
        context={
            "to": "friend@example.com",
            "code": code,
            "recipient_name": "Sam",
            "sender_name": "Ada",
            "message": "Happy birthday, Sam!\nSpend it on something nice.",
            "amount": "$50.00",
            "expires_at": "",
        },
    )
    message = build(mail)
    assert message.to == ["friend@example.com"]
    html = message.alternatives[0][0]
    browser_run.page.set_content(str(html))
    expect(browser_run.page.get_by_text(code)).to_be_visible()
    browser_run.screenshot("gift-card-email")
