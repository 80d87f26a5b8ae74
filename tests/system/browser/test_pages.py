"""The catalog and item pages as a customer sees them; screenshots go to test-artifacts/."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.system.browser.conftest import BrowserRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_catalog_lists_items_and_leads_to_the_item_page(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    bowl = ItemFactory.create(
        name="Walnut bowl", price=Decimal("48.00"), currency="usd", description="Turned by hand."
    )
    ItemFactory.create(name="Linen apron", price=Decimal("1500"), currency="jpy")
    ItemFactory.create(name="Brass key ring", price=Decimal("4.50"), currency="kwd")
    page = browser_run.page

    page.goto(browser_run.url("/"))
    expect(page).to_have_title("Catalog · Kassa")
    cards = page.locator(".card")
    expect(cards).to_have_count(3)
    # Meta.ordering is by name.
    expect(page.locator(".card-name")).to_have_text(
        ["Brass key ring", "Linen apron", "Walnut bowl"]
    )
    expect(page.locator(".card .price")).to_have_text(["KWD4.500", "¥1,500", "$48.00"])
    # The stylesheet was served and applied (a page without CSS would still pass the above).
    assert page.locator(".card").first.evaluate("e => getComputedStyle(e).borderRadius") != "0px"
    browser_run.screenshot("catalog")

    page.get_by_role("link", name="Walnut bowl").click()
    expect(page).to_have_url(browser_run.url(bowl.get_absolute_url()))
    expect(page.locator("h1")).to_have_text("Walnut bowl")
    expect(page.locator(".price-large")).to_have_text("$48.00")
    expect(page.locator(".description")).to_have_text("Turned by hand.")
    buy = page.get_by_role("button", name="Buy")
    expect(buy).to_be_visible()
    expect(buy).to_be_enabled()
    expect(page.locator("#buy-error")).to_be_hidden()
    assert browser_run.page_errors == []
    browser_run.screenshot("item")

    page.set_viewport_size({"width": 375, "height": 740})
    expect(buy).to_be_visible()
    browser_run.screenshot("item-narrow")


def test_empty_catalog_says_so(browser_run: BrowserRun) -> None:
    page = browser_run.page
    page.goto(browser_run.url("/"))
    expect(page.locator(".notice")).to_contain_text("The catalog is empty")
    expect(page.locator(".card")).to_have_count(0)
