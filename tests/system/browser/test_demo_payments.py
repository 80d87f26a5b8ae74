"""A newcomer's first purchase in demo payment mode, in Chromium: nothing but the shop's own
server is reached (every other request is refused), the demo Checkout and the demo card form
pay, and the order, its stock and its confirmation mail follow as with Stripe."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, BrowserContext, Route, expect
from pytest_django.live_server_helper import LiveServer

from kassa.notifications.models import Mail
from kassa.orders.models import Order
from tests.demo_stripe.conftest import demo
from tests.factories import ItemFactory
from tests.mail import SMTPServer, decoded_subject, run_worker, smtp
from tests.system.browser.conftest import SCREENSHOT_DIR
from tests.system.browser.test_storefront import serious_violations

__all__ = ["demo", "smtp"]  # fixtures
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def offline(chromium: Browser, live_server: LiveServer, demo: str) -> Iterator[BrowserContext]:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    elsewhere: list[str] = []

    def only_the_shop(route: Route) -> None:
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_shop)
    yield context
    context.close()
    assert elsewhere == []


def shot(page: object, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_a_newcomer_buys_through_the_demo_checkout(
    offline: BrowserContext, smtp: SMTPServer
) -> None:
    item = ItemFactory.create(name="Lavender soap", price=Decimal("6.50"), stock=2)
    page = offline.new_page()
    page.goto(f"/item/{item.pk}/")
    expect(page.locator(".demo-notice")).to_contain_text("DEMO")
    assert serious_violations(page) == []

    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url("**/demo-stripe/checkout/**")
    expect(page.get_by_role("heading", name="Demo Checkout — no money moves")).to_be_visible()
    shot(page, "demo-checkout")
    assert serious_violations(page) == []
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_label("Full name").fill("Nora Newcomer")
    page.get_by_label("Address", exact=True).fill("1 Main St")
    page.get_by_label("Postal code").fill("12345")
    page.get_by_label("City").fill("Springfield")
    page.get_by_role("button", name="Pay $6.50").click()

    page.wait_for_url("**/checkout/success/**")
    expect(page.locator("main")).to_contain_text("is paid")
    shot(page, "demo-success")
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    item.refresh_from_db()
    assert item.stock == 1
    run_worker()
    [mail] = [m for m in smtp.inbox.messages if m["X-Envelope-To"] == "nora@example.com"]
    assert decoded_subject(mail) == f"Your order #{order.pk} is paid"
    assert Mail.objects.get(order=order, kind=Mail.Kind.CONFIRMATION).state == Mail.State.SENT


def test_cancel_and_a_declined_card_on_the_demo_checkout(offline: BrowserContext) -> None:
    item = ItemFactory.create(name="Soap", requires_shipping=False, stock=1)
    page = offline.new_page()
    page.goto(f"/item/{item.pk}/")
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url("**/demo-stripe/checkout/**")
    page.get_by_label("Email").fill("nora@example.com")
    page.get_by_label("Name on card").fill("Nora")
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Pay").first.click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined")

    page.get_by_role("button", name="Cancel and go back to the shop").click()

    page.wait_for_url("**/checkout/cancel/**")
    order = Order.objects.get()
    assert order.status == Order.Status.OPEN
    item.refresh_from_db()
    assert item.available == 1


def test_the_demo_card_form_pays(offline: BrowserContext) -> None:
    item = ItemFactory.create(name="Gift card", requires_shipping=False, price=Decimal("20.00"))
    page = offline.new_page()
    page.goto(f"/item/{item.pk}/pay/")
    expect(page.locator(".demo-card-form")).to_contain_text("DEMO card form")
    page.locator("#pay-email").fill("nora@example.com")
    page.locator("#pay-name").fill("Nora")
    shot(page, "demo-card-form")
    assert serious_violations(page) == []

    page.locator("#pay").click()

    page.wait_for_url("**/checkout/success/**", timeout=20_000)
    expect(page.locator("main")).to_contain_text("paid")
    assert Order.objects.get().status == Order.Status.PAID
