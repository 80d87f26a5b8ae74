"""A product's variant picker in Chromium: with script a choice switches price, stock, picture,
Buy now and the address without a reload; without script each choice is a link to that
variant's page. A collection page filters. axe stays clean. Screenshots go to test-artifacts/."""

from decimal import Decimal

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from kassa.catalog.models import Collection, CollectionProduct, Item, Product
from tests.factories import product_with_variants
from tests.fake_stripe import FakeStripe
from tests.system.browser import test_storefront
from tests.system.browser.conftest import BrowserRun
from tests.system.browser.test_storefront import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The phone-sized browser of the storefront's tests, in the language the test asks for.
phone_run = test_storefront.phone_run


def tee() -> tuple[Product, dict[tuple[str, str], Item]]:
    product, items = product_with_variants(
        "Linen shirt",
        options={"Size": ["S", "M", "L"], "Colour": ["Oat", "Ink"]},
        skip={("L", "Ink")},
        price=Decimal("48.00"),
    )
    by = {(i.option1, i.option2): i for i in items}
    by["M", "Ink"].price = Decimal("52.00")
    by["M", "Ink"].save()
    by["S", "Ink"].stock = 0
    by["S", "Ink"].save()
    return product, by


def test_the_picker_switches_the_variant_without_a_reload(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    _product, by = tee()
    page = browser_run.page
    page.goto(f"/products/linen-shirt/?variant={by['M', 'Oat'].pk}")
    page.evaluate("window.kassaNoReload = true")

    page.get_by_role("link", name="Ink", exact=False).click()

    expect(page.locator("#price")).to_have_text("$52.00")
    assert page.evaluate("window.kassaNoReload") is True  # the same document: no reload
    assert page.url.endswith(f"?variant={by['M', 'Ink'].pk}")
    expect(page.locator("#buy")).to_have_attribute("data-buy-url", f"/buy/{by['M', 'Ink'].pk}/")
    expect(page.locator("#add-form")).to_have_attribute(
        "action", f"/item/{by['M', 'Ink'].pk}/add-to-order/"
    )
    # L does not come in Ink; S in Ink is sold out.
    expect(page.locator('a.choice[data-value="L"]')).to_have_class("choice choice-missing")
    page.locator('a.choice[data-value="S"]').click()
    expect(page.locator("#stock")).to_have_text("Sold out")
    expect(page.locator("#buy")).to_be_disabled()
    assert serious_violations(page) == []
    assert browser_run.page_errors == []
    browser_run.screenshot("product-picker-sold-out")

    page.locator('a.choice[data-value="Oat"]').click()
    expect(page.locator("#buy")).to_be_enabled()
    page.locator("#buy").click()
    page.wait_for_url("**/checkout.stripe.com/**")
    assert browser_run.buy_requests == [f"/buy/{by['S', 'Oat'].pk}/"]


def test_the_picker_is_links_without_script(
    chromium: Browser, live_server: LiveServer, fake_stripe: FakeStripe
) -> None:
    _product, by = tee()
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/products/linen-shirt/")
        expect(page.locator("#price")).to_have_text("$48.00")
        page.locator('a.choice[data-value="Ink"]').click()
        page.wait_for_url(f"**/products/linen-shirt/?variant={by['S', 'Ink'].pk}")
        expect(page.locator("#stock")).to_have_text("Sold out")
        page.locator('a.choice[data-value="M"]').click()
        page.wait_for_url(f"**?variant={by['M', 'Ink'].pk}")
        expect(page.locator("#price")).to_have_text("$52.00")
        # Add to cart is a plain form: it adds this variant.
        page.locator("#add").click()
        expect(page.locator("body")).to_contain_text("Linen shirt — M / Ink")
    finally:
        context.close()


@pytest.mark.parametrize("phone_run", ["en-US", "ru-RU"], indirect=True)
def test_the_product_page_on_a_phone(phone_run: BrowserRun, fake_stripe: FakeStripe) -> None:
    tee()
    page = phone_run.page
    page.goto("/products/linen-shirt/")
    expect(page.locator("#picker")).to_be_visible()
    assert serious_violations(page) == []
    phone_run.screenshot(f"product-phone-{page.evaluate('document.documentElement.lang')}")


def test_a_collection_page_filters_and_passes_axe(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    product, _ = tee()
    other, _ = product_with_variants("Wool hat", options={"Colour": ["Ink"]}, price=Decimal(30))
    wear = Collection.objects.create(name="Wear", handle="wear", description="Clothes.")
    for position, member in enumerate((product, other)):
        CollectionProduct.objects.create(collection=wear, product=member, position=position)
    page = browser_run.page
    page.goto("/")
    page.get_by_role("link", name="Wear").click()
    expect(page.locator(".card")).to_have_count(2)
    assert serious_violations(page) == []
    page.get_by_label("Oat").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".card")).to_have_count(1)
    expect(page.locator(".card-name")).to_have_text("Linen shirt")
    browser_run.screenshot("collection-filtered")
