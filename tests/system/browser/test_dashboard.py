"""The owner's dashboard in Chromium: a month of demo sales on the admin's index page, clean by
axe-core, within the CSP, with its CSV export."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import ConsoleMessage, Page, expect

from kassa.orders.models import Order
from tests.system.browser.conftest import BrowserRun
from tests.system.browser.test_storefront import AXE, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-browser-tests"


def log_in(page: Page, run: BrowserRun) -> None:
    User.objects.create_superuser("owner", "owner@example.com", PASSWORD)
    page.goto(run.url("/admin/login/?next=/admin/"))
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def csp_reports(page: Page) -> list[str]:
    found: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            found.append(message.text)

    page.on("console", note)
    return found


def test_the_dashboard_shows_a_month_of_sales_and_exports_them(browser_run: BrowserRun) -> None:
    call_command("seed_demo_sales", verbosity=0)
    cache.clear()
    assert Order.objects.filter(status=Order.Status.PAID).count() > 50
    page = browser_run.page
    refused = csp_reports(page)
    log_in(page, browser_run)

    expect(page.get_by_role("heading", name="Sales at a glance")).to_be_visible()
    charts = page.get_by_role("img", name="Sales per day in USD, last 30 days")
    expect(charts).to_be_visible()
    expect(page.locator(".kassa-chart-bars").first.locator("rect")).to_have_count(30)
    # The stylesheet applied: bars take the admin's colour from it, not the fallback attribute.
    fill = page.locator(".kassa-chart-bars rect").first.evaluate("e => getComputedStyle(e).fill")
    assert fill not in ("", "rgb(0, 0, 0)")
    expect(page.get_by_role("table", name="Orders and checkouts")).to_be_visible()
    expect(page.get_by_role("table", name="Top items by sales, last 30 days")).to_be_visible()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    browser_run.screenshot("dashboard")

    # The figures behind a chart, one row per day.
    page.get_by_text("The figures behind the chart (USD)").click()
    table = page.get_by_role("table", name="Sales per day in USD, last 30 days")
    expect(table.locator("tbody tr")).to_have_count(30)
    violations: list[dict[str, Any]] = serious_violations(page)
    assert violations == []

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("kassa-paid-orders-")
    path = download.path()
    header = path.read_text().splitlines()[0]
    assert header.startswith("order,paid_at,status,currency,item_id,item,quantity,unit_price")

    # What needs attention opens the admin list it counts.
    to_ship = page.get_by_role("link", name=re.compile(r"^\d+ paid orders? to ship$"))
    count = int(to_ship.inner_text().split()[0])
    to_ship.click()
    expect(page.get_by_role("heading", name="Select order to change")).to_be_visible()
    expect(page.locator(".paginator")).to_contain_text(f"{count} order")

    page.goto(browser_run.url("/admin/dashboard/cart/"))
    expect(
        page.get_by_role("heading", name="Select cart or abandoned checkout to change")
    ).to_be_visible()
    expect(page.get_by_role("link", name="abandoned checkout", exact=True)).to_be_visible()
    # Django's own breadcrumbs (on every admin page but the index) are links told apart by
    # colour alone, which axe reports; the rest of the page is checked.
    found = AXE.run(page, context={"exclude": [[".breadcrumbs"]]}).response["violations"]
    assert [v["id"] for v in found if v["impact"] in ("serious", "critical")] == []
    assert refused == []
    assert browser_run.page_errors == []


def test_the_dashboard_on_a_phone(browser_run: BrowserRun) -> None:
    call_command("seed_demo_sales", verbosity=0)
    cache.clear()
    page = browser_run.page
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, browser_run)
    expect(page.get_by_role("img", name="Sales per day in EUR, last 30 days")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, "the page scrolls sideways"
    assert serious_violations(page) == []
    browser_run.screenshot("dashboard-phone")
