"""Item page → Buy → /buy/<id> (a real Checkout Session on the fake Stripe) → Stripe Checkout."""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Item
from kassa.orders.models import Order
from tests.attempts import session_of
from tests.conftest import PUBLISHABLE_KEY, SECRET_KEY
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.system.browser.conftest import (
    BUY_PATH,
    CHECKOUT_HOST,
    STRIPE_JS_V3_URL,
    STRIPE_JS_WITHOUT_REDIRECT,
    BrowserRun,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHECKOUT_URL = re.compile(rf"^https://{re.escape(CHECKOUT_HOST)}/")
# Long enough that a second click lands while the first checkout is still being created.
STRIPE_LATENCY = 0.3


def _click_once(page: Page) -> None:
    page.locator("#buy").click()


def _double_click(page: Page) -> None:
    page.locator("#buy").dblclick()


def _click_then_click_again_fast(page: Page) -> None:
    # The second click goes to the same spot with the mouse, like an impatient customer: the
    # button is disabled by then, so Playwright's own click would just wait for it.
    box = page.locator("#buy").bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(50)
    page.mouse.click(x, y)


def _open_item_page(run: BrowserRun, item: Item) -> str:
    """Open the item's page; returns the path its Buy button fetches."""
    run.page.goto(run.url(f"/item/{item.pk}"))  # the contract path, as a customer types it
    # goto waits for "load", so the deferred Stripe.js and checkout.js have run by now.
    expect(run.page.locator("h1")).to_have_text(item.name)
    buy_path = run.page.locator("#buy").get_attribute("data-buy-url")
    assert buy_path is not None
    assert BUY_PATH.fullmatch(buy_path), buy_path
    assert str(item.pk) in buy_path.split("/")
    return buy_path


def _the_one_session(fake: FakeStripe) -> dict[str, Any]:
    created = fake.requests_to("POST", "/v1/checkout/sessions")
    assert len(created) == 1, f"expected one Checkout Session request, got {len(created)}"
    assert created[0].api_key == SECRET_KEY
    assert len(fake.resources.checkout_sessions) == 1
    (session,) = fake.resources.checkout_sessions.values()
    return session


def _assert_arrived_at_checkout_for(run: BrowserRun, session: dict[str, Any]) -> None:
    session_id = session["id"]
    assert run.page.url == f"https://{CHECKOUT_HOST}/c/pay/{session_id}"
    assert run.stripe.checkout_requests == [run.page.url]
    expect(run.page.locator("#stand-in-checkout")).to_be_visible()
    # The order in our database is the one the session names, and it waits for payment.
    order = Order.objects.get(payment_attempts__stripe_id=session_id)
    assert order.status == Order.Status.PENDING
    assert session_of(order) == session_id
    assert session["client_reference_id"] == str(order.pk)
    assert session["metadata"] == {"order_id": str(order.pk)}
    assert run.page_errors == []


@pytest.mark.parametrize(
    "click",
    [_click_once, _double_click, _click_then_click_again_fast],
    ids=["click", "dblclick", "fast-second-click"],
)
def test_buy_with_redirect_to_checkout(
    browser_run: BrowserRun, fake_stripe: FakeStripe, click: Callable[[Page], None]
) -> None:
    item = ItemFactory.create(name="Walnut bowl", price=Decimal("48.00"), currency="usd")
    fake_stripe.set_latency(STRIPE_LATENCY)
    buy_path = _open_item_page(browser_run, item)

    with browser_run.page.expect_navigation(url=CHECKOUT_URL):
        click(browser_run.page)

    session = _the_one_session(fake_stripe)
    assert session["amount_total"] == 4800
    assert session["currency"] == "usd"
    _assert_arrived_at_checkout_for(browser_run, session)
    assert browser_run.buy_requests == [buy_path]
    assert browser_run.stripe.stripe_js_requests == [STRIPE_JS_V3_URL]
    # Stripe.js was used, exactly once, with the session the shop just created.
    assert browser_run.stripe.calls == [
        ("Stripe", {"key": PUBLISHABLE_KEY}),
        ("redirectToCheckout", {"sessionId": session["id"]}),
    ]


@pytest.mark.parametrize(
    "click",
    [_click_once, _double_click, _click_then_click_again_fast],
    ids=["click", "dblclick", "fast-second-click"],
)
def test_buy_falls_back_to_session_url_without_redirect_to_checkout(
    browser_run: BrowserRun,
    fake_stripe: FakeStripe,
    settings: SettingsWrapper,
    click: Callable[[Page], None],
) -> None:
    # The Stripe.js of 2025 (clover) on its versioned URL: no redirectToCheckout any more.
    settings.STRIPE_JS_URL = "https://js.stripe.com/clover/stripe.js"
    browser_run.stripe.stripe_js = STRIPE_JS_WITHOUT_REDIRECT
    item = ItemFactory.create(name="Linen apron", price=Decimal("1500"), currency="jpy")
    fake_stripe.set_latency(STRIPE_LATENCY)
    buy_path = _open_item_page(browser_run, item)

    with browser_run.page.expect_navigation(url=CHECKOUT_URL):
        click(browser_run.page)

    session = _the_one_session(fake_stripe)
    assert session["amount_total"] == 1500  # JPY is zero-decimal: whole yen
    assert browser_run.page.url == session["url"]
    _assert_arrived_at_checkout_for(browser_run, session)
    assert browser_run.buy_requests == [buy_path]
    assert browser_run.stripe.stripe_js_requests == ["https://js.stripe.com/clover/stripe.js"]
    assert browser_run.stripe.calls == [("Stripe", {"key": PUBLISHABLE_KEY})]


def test_buy_without_stripe_js_at_all_still_reaches_checkout(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    # Stripe.js blocked (an ad blocker, a flaky network): the session URL is the way out.
    browser_run.stripe.stripe_js = "/* loaded, but defines nothing */"
    item = ItemFactory.create()
    _open_item_page(browser_run, item)

    with browser_run.page.expect_navigation(url=CHECKOUT_URL):
        _click_once(browser_run.page)

    session = _the_one_session(fake_stripe)
    _assert_arrived_at_checkout_for(browser_run, session)
    assert browser_run.stripe.calls == []


def test_a_stripe_js_that_throws_still_reaches_checkout(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    browser_run.stripe.stripe_js = (
        "window.Stripe = function () { return { redirectToCheckout: function () {"
        " throw new Error('IntegrationError: redirectToCheckout is no longer supported'); } }; };"
    )
    item = ItemFactory.create()
    _open_item_page(browser_run, item)

    with browser_run.page.expect_navigation(url=CHECKOUT_URL):
        _click_once(browser_run.page)

    _assert_arrived_at_checkout_for(browser_run, _the_one_session(fake_stripe))


def test_back_from_checkout_leaves_a_usable_buy_button(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    page = browser_run.page
    _open_item_page(browser_run, item)
    label = page.locator("#buy").inner_text()
    page.evaluate("window.kassaBeforeCheckout = true")
    with page.expect_navigation(url=CHECKOUT_URL):
        _click_once(page)
    first = _the_one_session(fake_stripe)

    # Restored from the back/forward cache, "load" does not fire again: wait for the commit.
    page.go_back(wait_until="commit")
    expect(page).to_have_url(browser_run.url(f"/item/{item.pk}"))
    assert page.evaluate("window.kassaBeforeCheckout === true"), (
        "the item page was loaded afresh, not restored from the back/forward cache, so this "
        "test no longer covers what it is for"
    )
    buy = page.locator("#buy")
    expect(buy).to_be_enabled()
    expect(buy).to_have_text(label)
    expect(buy).not_to_have_attribute("aria-busy", "true")

    with page.expect_navigation(url=CHECKOUT_URL):
        _click_once(page)
    # The same purchase, still open at Stripe: Buy answers that session again (issue 19).
    assert list(fake_stripe.resources.checkout_sessions) == [first["id"]]
    assert page.url == f"https://{CHECKOUT_HOST}/c/pay/{first['id']}"
    assert browser_run.page_errors == []


def test_stripe_failure_shows_a_plain_error_and_the_button_works_again(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    # Nothing to send: no shipping rate is made at Stripe first, so the failure is the session's.
    item = ItemFactory.create(name="Oak board", requires_shipping=False)
    page = browser_run.page
    _open_item_page(browser_run, item)
    item_url = page.url
    buy, error = page.locator("#buy"), page.locator("#buy-error")
    label = buy.inner_text()
    expect(error).to_be_hidden()
    fake_stripe.fail_next(status=500, times=10)

    with page.expect_response(lambda r: "/buy/" in r.url) as answer:
        buy.click()
    assert answer.value.status == 503

    expect(error).to_be_visible()
    expect(error).to_have_text(
        "The payment provider is having trouble right now. Please try again in a minute."
    )
    expect(buy).to_be_enabled()
    expect(buy).to_have_text(label)
    expect(buy).not_to_have_attribute("aria-busy", "true")
    assert page.url == item_url
    assert browser_run.stripe.checkout_requests == []
    assert browser_run.stripe.calls_to("redirectToCheckout") == []
    assert not Order.objects.filter(lines__item=item).exists(), "a failed buy left an order"
    assert fake_stripe.requests_to("POST", "/v1/checkout/sessions"), "Stripe was never asked"
    browser_run.screenshot("item-stripe-error")

    # Stripe recovers; the same button, without reloading the page, now gets the customer through.
    fake_stripe.reset()
    with page.expect_navigation(url=CHECKOUT_URL):
        buy.click()
    session = _the_one_session(fake_stripe)
    _assert_arrived_at_checkout_for(browser_run, session)
    assert len(browser_run.buy_requests) == 2


def test_a_busy_shop_keeps_the_customer_in_line_then_opens_checkout(
    browser_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    """Stripe rate-limits every call for a moment: the shop answers 503 with Retry-After, and the
    button waits that long and asks again, instead of showing an error."""
    settings.STRIPE_RATE_LIMIT_WAIT_SECONDS = 0.2
    # Nothing to send: the only call to Stripe is the session's, which the limit refuses.
    item = ItemFactory.create(name="Linen towel", requires_shipping=False)
    page = browser_run.page
    _open_item_page(browser_run, item)
    buy = page.locator("#buy")
    fake_stripe.set_rate_limit(0)

    with page.expect_response(lambda r: "/buy/" in r.url) as answer:
        buy.click()
    assert answer.value.status == 503
    assert int(answer.value.headers["retry-after"]) >= 1
    expect(buy).to_have_text("Many customers are paying right now. You are in line…")
    expect(buy).to_be_disabled()
    expect(page.locator("#buy-error")).to_be_hidden()
    browser_run.screenshot("item-buy-in-line")
    fake_stripe.set_rate_limit(None)

    page.wait_for_url(CHECKOUT_URL)
    refused = [
        r for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions") if r.rate_limited
    ]
    assert refused, "Stripe never answered 429"
    (session,) = fake_stripe.resources.checkout_sessions.values()
    _assert_arrived_at_checkout_for(browser_run, session)
    assert len(browser_run.buy_requests) == 2
    assert Order.objects.filter(lines__item=item).count() == 1  # the refused press left none


def test_without_stripe_keys_the_item_page_says_so_and_offers_no_buy_button(
    browser_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    item = ItemFactory.create(name="Clay cup")
    page = browser_run.page
    page.goto(browser_run.url(f"/item/{item.pk}"))

    expect(page.locator("h1")).to_have_text("Clay cup")
    expect(page.locator("#payments-off")).to_be_visible()
    expect(page.locator("#payments-off")).to_contain_text("Payments are not configured")
    expect(page.locator("#buy")).to_have_count(0)
    expect(page.get_by_role("button", name="Buy")).to_have_count(0)
    # Nothing of Stripe's is loaded on a page that cannot pay.
    assert browser_run.stripe.stripe_js_requests == []
    assert browser_run.page_errors == []
    browser_run.screenshot("item-payments-off")

    # And the JSON endpoint the button would have called refuses plainly, asking Stripe nothing.
    answer = page.request.get(browser_run.url(f"/buy/{item.pk}"))
    assert answer.status == 503
    assert answer.json() == {
        "error": "Payments are not configured for this shop yet.",
        "code": "payments_not_configured",
    }
    assert fake_stripe.requests == []
