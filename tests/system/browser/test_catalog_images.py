"""A real shop's catalog in the browser: staff upload a picture in the admin, customers see it,
page through a large catalog and search it; axe stays clean. Screenshots go to test-artifacts/."""

import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from kassa.catalog import revision
from kassa.catalog.models import Item
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.images import picture
from tests.system.browser.conftest import BrowserRun, StripeStandIn
from tests.system.browser.test_storefront import PHONE, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


def loaded_images(page: Page, selector: str) -> list[int]:
    """The natural widths of the pictures `selector` finds, once there are some and each has
    loaded (0: broken)."""
    # Polled from here: Playwright's wait_for_function polls a string by eval in the page,
    # which the shop's CSP refuses (no 'unsafe-eval') whenever a picture is still loading.
    # None found yet is waited out too: right after a click the page may still be the old one.
    page.locator(selector).first.wait_for(state="attached")
    deadline = time.monotonic() + 10
    while not page.eval_on_selector_all(selector, "els => els.every(e => e.complete)"):
        assert time.monotonic() < deadline, f"{selector}: not loaded within 10 s"
        page.wait_for_timeout(50)
    widths: list[int] = page.eval_on_selector_all(selector, "els => els.map(e => e.naturalWidth)")
    return widths


def test_staff_upload_a_picture_in_the_admin_and_customers_see_it(
    browser_run: BrowserRun, fake_stripe: FakeStripe, tmp_path: Path
) -> None:
    User.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    photo = tmp_path / "teapot.jpg"
    photo.write_bytes(picture("JPEG", (1600, 1200)))
    page = browser_run.page

    page.goto("/admin/catalog/item/add/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.fill("#id_name_en", "White teapot")
    page.fill("#id_price", "30.00")
    page.fill("#id_image_alt_en", "A white porcelain teapot")
    with page.expect_file_chooser() as chooser:
        page.click("#id_image")
    chooser.value.set_files(str(photo))
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    # The change page previews the picture as the catalog shows it.
    assert loaded_images(page, ".field-image_preview img") == [480]
    browser_run.screenshot("admin-item-image")

    item = Item.objects.get()
    page.goto("/")
    card = page.locator(".card-image").first
    expect(card).to_have_attribute("src", item.card_image.url)
    expect(card).to_have_attribute("alt", "A white porcelain teapot")
    assert loaded_images(page, ".card-image") == [480]
    page.get_by_role("link", name="White teapot").click()
    page.wait_for_url(f"**/item/{item.pk}/")
    # srcset: the large size for the page's 36rem column; naturalWidth counts CSS pixels.
    assert loaded_images(page, ".item-image") == [576]
    shown = page.eval_on_selector(".item-image", "e => e.currentSrc")
    assert shown.endswith(item.large_image.url)
    assert browser_run.page_errors == []


def test_a_refused_upload_says_why_in_the_admin(browser_run: BrowserRun, tmp_path: Path) -> None:
    User.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    fake = tmp_path / "mug.jpg"
    fake.write_bytes(b"this is text, not a picture")
    page = browser_run.page
    page.goto("/admin/catalog/item/add/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.fill("#id_name_en", "Mug")
    page.fill("#id_price", "10.00")
    with page.expect_file_chooser() as chooser:
        page.click("#id_image")
    chooser.value.set_files(str(fake))
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("not a picture the shop can show")
    assert not Item.objects.exists()


@pytest.fixture
def large_catalog(settings: SettingsWrapper) -> None:
    """The demo catalog with its pictures, plus 55 more items (some with the same pictures),
    so there are three pages of 24."""
    call_command("seed_demo")
    pictured = list(Item.objects.exclude(card_image=""))
    for n in range(55):
        source = pictured[n % len(pictured)]
        item = ItemFactory.build(
            name=f"{source.name} no. {n + 2}",
            description=source.description,
            price=source.price,
            currency=source.currency,
        )
        if n % 3:  # every third without a picture: the placeholder
            for field in ("image", "card_image", "large_image", "image_alt"):
                setattr(item, field, getattr(source, field))
            for field in ("card_width", "card_height", "large_width", "large_height"):
                setattr(item, field, getattr(source, field))
        item.save()  # saved one by one: each becomes a product of its own, as the catalog lists
    revision.bump()


def test_the_catalog_with_pictures_pages_and_search(
    browser_run: BrowserRun, fake_stripe: FakeStripe, large_catalog: None
) -> None:
    page = browser_run.page
    page.goto("/")
    expect(page.locator(".card")).to_have_count(24)
    widths = loaded_images(page, ".card-image:not([loading=lazy])")
    assert widths
    assert all(widths), widths
    assert serious_violations(page) == []
    browser_run.screenshot("catalog-images")

    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(browser_run.url("/?page=2"))
    expect(page.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
    expect(page.locator(".card")).to_have_count(24)
    assert serious_violations(page) == []
    browser_run.screenshot("catalog-page-2")

    page.get_by_role("searchbox", name="Search the catalog").fill("brass pencil")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#search-summary")).to_contain_text("items found for “brass pencil”")
    expect(page.locator(".card-name").first).to_contain_text("Brass pencil")
    assert serious_violations(page) == []
    browser_run.screenshot("catalog-search")

    page.get_by_role("searchbox", name="Search the catalog").fill("teapot")
    page.keyboard.press("Enter")
    expect(page.locator("#search-summary")).to_contain_text("Nothing found for “teapot”")
    assert browser_run.page_errors == []


@pytest.mark.parametrize("language", ["en-US", "ru-RU"])
def test_the_catalog_with_pictures_on_a_phone(
    chromium: Browser,
    live_server: LiveServer,
    stripe_stand_in: StripeStandIn,
    large_catalog: None,
    language: str,
) -> None:
    context = chromium.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        locale=language,
        extra_http_headers={"Accept-Language": language},
        has_touch=True,
    )
    context.route("**/*", stripe_stand_in._route)
    page = context.new_page()
    try:
        page.goto("/")
        first = page.locator(".card-image").first
        expect(first).to_be_visible()
        assert loaded_images(page, ".card-image:not([loading=lazy])")[0] == 480
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert serious_violations(page) == []
        run = BrowserRun(page, stripe_stand_in, live_server.url, [], [])
        run.screenshot(f"catalog-images-phone-{language}")
        page.goto("/?page=3")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        run.screenshot(f"catalog-page-3-phone-{language}")
    finally:
        context.close()
    assert stripe_stand_in.blocked == []
