"""The customer's signed order link opened in another browser, the order's admin page, and the
mails as a mail client shows them, in Chromium."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.notifications import messages
from kassa.notifications.models import Mail
from kassa.orders import lifecycle
from kassa.orders.links import order_link, order_token
from kassa.orders.models import Order, ShippingRate
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, encode, event, signature
from tests.system.browser.conftest import SCREENSHOT_DIR, BrowserRun
from tests.system.browser.test_dashboard import PASSWORD, log_in
from tests.system.browser.test_storefront import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["PASSWORD"]


def paid_order(fake: FakeStripe, settings: SettingsWrapper, buy: Callable[[str], Any]) -> Order:
    """An order bought with `buy(path)` (the Buy click's request), paid and shipped."""
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    ShippingRate.objects.create(
        name="Courier", amount=Decimal("4.00"), currency="usd", min_days=1, max_days=2
    )
    mug = ItemFactory.create(name="Ceramic mug", price=Decimal("12.50"))
    body = buy(f"/buy/{mug.pk}")
    session = fake.resources.complete_checkout_session(
        body["id"], name="Ada Lovelace", email="ada+shop@example.com"
    )
    payload = encode(event("checkout.session.completed", session))
    Client().post(
        "/stripe/webhook/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature(payload)},
    )
    order = Order.objects.get(pk=body["order_id"])
    lifecycle.order_mark_shipped(
        order_id=order.pk,
        carrier="DHL",
        tracking_number="JD014600006281",
        tracking_url="https://track.example/JD014600006281",
        source="test",
    )
    order.refresh_from_db()
    return order


def test_the_signed_link_opens_the_order_in_another_browser_and_nothing_else(
    browser_run: BrowserRun,
    chromium: Browser,
    fake_stripe: FakeStripe,
    settings: SettingsWrapper,
) -> None:
    page = browser_run.page
    # Bought in this browser: its session owns the order.
    order = paid_order(
        fake_stripe, settings, lambda path: page.request.get(browser_run.url(path)).json()
    )
    page.goto(browser_run.url(f"/orders/{order.pk}/"))
    expect(page.locator(".status")).to_have_text("paid")

    elsewhere = chromium.new_context(base_url=browser_run.base_url, locale="en-US")
    try:
        other = elsewhere.new_page()

        # Not the buyer: their order's own address is someone else's order here.
        def status(path: str) -> int:
            response = other.goto(browser_run.url(path))
            assert response is not None
            return response.status

        assert status(f"/orders/{order.pk}/") == 404
        assert status(f"/orders/view/{order_token(order)}/") == 200
        expect(other.get_by_role("heading", name=f"Order #{order.pk}")).to_be_visible()
        expect(other.get_by_role("cell", name="Ceramic mug")).to_be_visible()
        expect(other.locator("#fulfilment-status")).to_contain_text("shipped")
        expect(other.get_by_role("link", name="JD014600006281")).to_have_attribute(
            "href", "https://track.example/JD014600006281"
        )
        expect(other.locator("#total")).to_have_text("$16.50")
        assert serious_violations(other) == []
        other.screenshot(path=str(SCREENSHOT_DIR / "order-signed-link.png"), full_page=True)
        tampered = order_token(order)[:-2] + "xx"
        assert status(f"/orders/view/{tampered}/") == 404
    finally:
        elsewhere.close()


def test_the_order_admin_page_and_both_mails(
    browser_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_STAFF_EMAILS = ["orders@kassa.example"]
    order = paid_order(fake_stripe, settings, lambda path: Client().get(path).json())
    page = browser_run.page
    log_in(page, browser_run)
    page.goto(browser_run.url(f"/admin/orders/order/{order.pk}/change/"))
    for shown in ("ada+shop@example.com", "Ada Lovelace", "1 Main St", "Courier", "DHL"):
        expect(page.locator("#content")).to_contain_text(shown)
    browser_run.screenshot("admin-order")
    page.goto(browser_run.url("/admin/orders/order/"))
    expect(page.locator("#result_list")).to_contain_text("ada+shop@example.com")
    browser_run.screenshot("admin-orders")

    for kind, name in [
        (Mail.Kind.CONFIRMATION, "mail-confirmation"),
        (Mail.Kind.SHIPPED, "mail-shipped"),
        (Mail.Kind.STAFF_NEW_ORDER, "mail-staff-new-order"),
    ]:
        message = messages.build(Mail.objects.get(order=order, kind=kind))
        [(html, _type)] = message.alternatives
        # As a mail client shows it: on a blank page, not under the shop's CSP (no inline style).
        page.goto("about:blank")
        page.set_content(str(html))
        if kind == Mail.Kind.CONFIRMATION:
            expect(page.get_by_role("link", name="See your order")).to_have_attribute(
                "href", order_link(order)
            )
        if kind == Mail.Kind.SHIPPED:
            expect(page.get_by_role("link", name="Track your parcel")).to_have_attribute(
                "href", "https://track.example/JD014600006281"
            )
        browser_run.screenshot(name)
    assert User.objects.filter(username="owner").exists()
