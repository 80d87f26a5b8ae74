"""Stock in the browser: a sold-out item and one with two left, Buy now with the quantity in its
box, and the admin's stock columns; axe stays clean. Screenshots go to test-artifacts/."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from kassa.catalog.models import Item
from kassa.orders.models import OrderLine
from tests.factories import ensure_shipping_rate
from tests.fake_stripe import FakeStripe
from tests.system.browser.conftest import BrowserRun
from tests.system.browser.test_storefront import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


def test_a_sold_out_item_says_so_and_cannot_be_bought(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = Item.objects.create(
        name="Enamel kettle",
        description="Two litres, for any stove.",
        price=Decimal("39.00"),
        stock=3,
    )
    Item.objects.filter(pk=item.pk).update(reserved=3)  # three checkouts hold them all
    ensure_shipping_rate(item.currency)
    page = browser_run.page

    page.goto(f"/item/{item.pk}/")

    expect(page.locator("#stock")).to_have_text("Sold out")
    expect(page.locator("#buy")).to_be_disabled()
    expect(page.locator(".add-form button")).to_be_disabled()
    expect(page.locator("#pay-here")).to_have_count(0)
    assert serious_violations(page) == []
    browser_run.screenshot("item-sold-out")


def test_only_two_left_and_buy_now_buys_the_quantity_in_the_box(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = Item.objects.create(
        name="Linen apron",
        description="Washed linen, with a long tie.",
        price=Decimal("24.00"),
        stock=2,
    )
    ensure_shipping_rate(item.currency)
    page = browser_run.page

    page.goto(f"/item/{item.pk}/")
    expect(page.locator("#stock")).to_have_text("Only 2 left")
    assert page.locator("#quantity").get_attribute("max") == "2"
    assert serious_violations(page) == []
    browser_run.screenshot("item-only-2-left")

    page.fill("#quantity", "2")
    page.locator("#buy").click()
    page.wait_for_url("https://checkout.stripe.com/**")

    assert browser_run.buy_requests == [f"/buy/{item.pk}/"]  # paths; the query is below
    line = OrderLine.objects.get(item=item)
    assert line.quantity == 2
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["line_items[0][quantity]"] == "2"


def test_the_admin_lists_stock_reserved_and_available(browser_run: BrowserRun) -> None:
    User.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    for name, stock, reserved in [
        ("Enamel kettle", 3, 3),
        ("Linen apron", 2, 0),
        ("Oak board", 40, 4),
        ("Tea towel", None, 0),
    ]:
        item = Item.objects.create(name=name, price=Decimal("10.00"), stock=stock)
        Item.objects.filter(pk=item.pk).update(reserved=reserved)
    page = browser_run.page
    page.goto("/admin/catalog/item/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    for column in ("Stock", "Reserved", "Available", "On sale"):
        expect(page.locator("#result_list thead")).to_contain_text(column)
    kettle = page.locator("#result_list tbody tr", has_text="Enamel kettle")
    expect(kettle.locator(".field-display_available")).to_have_text("0")
    expect(page.locator("#changelist-filter")).to_contain_text("Sold out")
    page.set_viewport_size({"width": 1500, "height": 700})  # every column in view
    browser_run.screenshot("admin-item-stock")
    page.click("#changelist-filter >> text=Low stock")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list tbody")).to_contain_text("Linen apron")
