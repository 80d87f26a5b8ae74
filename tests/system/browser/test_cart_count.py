"""The header's cart count in Chromium, for one customer on two devices (two browser contexts
signed in to one account) and in two tabs of one browser: a change in one shows on the other's
next page, although pages read the count from a cookie (kassa.storefront.personal)."""

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from kassa.catalog.models import Item
from tests.customers.shop import code_of, sign_in_mail
from tests.factories import ItemFactory
from tests.mail import SMTPServer, smtp
from tests.system.browser.conftest import StripeStandIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["smtp"]


def device(chromium: Browser, live_server: LiveServer, stand_in: StripeStandIn) -> BrowserContext:
    context = chromium.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    context.route("**/*", stand_in._route)
    return context


def sign_in(page: Page, smtp: SMTPServer, email: str, *, count: int) -> None:
    page.goto("/account/sign-in/")
    page.fill("#sign-in-email", email)
    page.keyboard.press("Enter")
    expect(page.locator("#sign-in-code")).to_be_visible()
    page.fill("#sign-in-code", code_of(sign_in_mail(smtp, email, count=count)))
    page.keyboard.press("Enter")
    expect(page.get_by_text(email)).to_be_visible()


def add(page: Page, item: Item) -> None:
    page.goto(f"/item/{item.pk}/")
    page.locator("form[action$='add-to-order/'] button[type=submit]").first.click()
    page.wait_for_load_state()


def count(page: Page, path: str = "/") -> str:
    page.goto(path)
    return page.inner_text("#cart-count")


def test_two_devices_of_one_account_and_two_tabs_show_the_same_count(
    chromium: Browser,
    live_server: LiveServer,
    stripe_stand_in: StripeStandIn,
    smtp: SMTPServer,
) -> None:
    mug, towel = ItemFactory.create(name="Mug"), ItemFactory.create(name="Towel")
    phone = device(chromium, live_server, stripe_stand_in)
    laptop = device(chromium, live_server, stripe_stand_in)
    try:
        on_phone, on_laptop = phone.new_page(), laptop.new_page()
        sign_in(on_phone, smtp, "eve@example.com", count=1)
        sign_in(on_laptop, smtp, "eve@example.com", count=2)
        assert count(on_laptop) == "0"
        assert "kassa_header" in {cookie["name"] for cookie in laptop.cookies()}

        add(on_phone, mug)
        assert count(on_laptop) == "1"
        assert count(on_laptop, f"/item/{towel.pk}/") == "1"

        # A second tab on the laptop adds; the first tab's next page shows it.
        second_tab = laptop.new_page()
        add(second_tab, towel)
        assert count(on_laptop) == "2"
        assert count(on_phone, f"/item/{mug.pk}/") == "2"
    finally:
        phone.close()
        laptop.close()
