"""The storefront as customers meet it: two languages, a phone-sized screen, only a keyboard,
and an automated accessibility check (axe-core) on every page."""

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, expect
from pytest_django.live_server_helper import LiveServer

from kassa.orders.models import Order
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.system.browser.conftest import BrowserRun, StripeStandIn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHECKOUT_URL = re.compile(r"^https://checkout\.stripe\.com/c/pay/cs_test_\w+$")
PHONE: ViewportSize = {"width": 360, "height": 740}
AXE = Axe()


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it is now."""
    violations = AXE.run(page).response["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def phone_run(
    chromium: Browser,
    live_server: LiveServer,
    stripe_stand_in: StripeStandIn,
    request: pytest.FixtureRequest,
) -> Iterator[BrowserRun]:
    """A phone-sized browser whose language is the test's parameter ("ru-RU" or "en-US")."""
    context = chromium.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        locale=request.param,
        extra_http_headers={"Accept-Language": request.param},
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    context.expose_function("kassaStandInRecord", stripe_stand_in._record)
    context.route("**/*", stripe_stand_in._route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield BrowserRun(
        page=page,
        stripe=stripe_stand_in,
        base_url=live_server.url,
        page_errors=errors,
        buy_requests=[],
    )
    context.close()
    assert stripe_stand_in.blocked == []
    assert errors == []


WORDS = {
    "ru-RU": {
        "catalog": "Каталог",
        "add": "В корзину",
        "cart": "Корзина",
        "buy": "Оплатить",
        "total": "Итого",
        "price": "12,50\xa0$",
    },
    "en-US": {
        "catalog": "Catalog",
        "add": "Add to cart",
        "cart": "Cart",
        "buy": "Buy",
        "total": "Total",
        "price": "$12.50",
    },
}


@pytest.mark.parametrize("phone_run", ["ru-RU", "en-US"], indirect=True)
def test_a_customer_goes_from_catalog_to_checkout_in_their_language_on_a_phone(
    phone_run: BrowserRun, fake_stripe: FakeStripe, request: pytest.FixtureRequest
) -> None:
    language = request.node.callspec.params["phone_run"]
    words = WORDS[language]
    page = phone_run.page
    ItemFactory.create(name="Mug", price=Decimal("12.50"))
    ItemFactory.create(name="Towel", price=Decimal("7.00"))

    page.goto("/")
    expect(page.locator("h1")).to_have_text(words["catalog"])
    expect(page.locator(".card .price").first).to_have_text(words["price"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone_run.screenshot(f"catalog-phone-{language}")

    page.get_by_role("button", name=f"{words['add']}: Mug").click()
    page.goto("/")
    page.get_by_role("button", name=f"{words['add']}: Towel").click()
    expect(page.locator("#cart-count")).to_have_text("2")
    expect(page.locator("tfoot .total")).to_contain_text(words["total"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone_run.screenshot(f"cart-phone-{language}")

    with page.expect_navigation(url=CHECKOUT_URL):
        page.get_by_role("button", name=words["buy"], exact=True).click()

    [session_call] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert session_call.params["locale"] == language[:2]
    assert session_call.params["line_items[1][quantity]"] == "1"


@pytest.mark.parametrize("phone_run", ["en-US"], indirect=True)
def test_the_language_can_be_switched_on_the_page(phone_run: BrowserRun) -> None:
    page = phone_run.page
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Catalog")
    page.get_by_role("button", name="RU Русский").click()
    expect(page.locator("h1")).to_have_text("Каталог")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.goto("/orders/")
    expect(page.locator("h1")).to_have_text("Ваши заказы")


def test_keyboard_only_purchase(browser_run: BrowserRun, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Brass pencil")
    page = browser_run.page
    page.goto(f"/item/{item.pk}/")

    for _ in range(30):  # Tab through the page until Buy has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "buy":
            break
    else:
        pytest.fail("Buy cannot be reached with the keyboard")
    with page.expect_navigation(url=CHECKOUT_URL):
        page.keyboard.press("Enter")
    assert Order.objects.get().status == Order.Status.PENDING


def test_every_page_passes_the_accessibility_check(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(name="Ceramic mug", description="Stoneware.\nDishwasher safe.")
    ItemFactory.create(name="Notebook", currency="eur", price=Decimal("12"))
    page = browser_run.page
    page.goto(f"/item/{item.pk}/")
    page.get_by_role("button", name="Add to cart").click()
    order = Order.objects.get()
    order.discount = DiscountFactory.create(name="Welcome", percent_off=Decimal("10"))
    order.tax = TaxFactory.create()
    order.save()

    pages = {
        "catalog": "/",
        "item": f"/item/{item.pk}/",
        "cart": f"/orders/{order.pk}/",
        "orders": "/orders/",
        "success": "/checkout/success/",
        "cancel": "/checkout/cancel/",
        "not-found": "/item/999999/",
    }
    found = {}
    for name, path in pages.items():
        page.goto(path)
        found[name] = serious_violations(page)
        browser_run.screenshot(f"page-{name}")
    assert found == {name: [] for name in pages}
