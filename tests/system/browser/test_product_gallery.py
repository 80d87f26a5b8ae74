"""A product page in Chromium in Russian (its content translated, with the English description
where no Russian one was written), and its gallery: a variant with a picture of its own shows it
when picked, one without shows the gallery's first again, a thumbnail shows its picture in place.
axe stays clean. Screenshots go to test-artifacts/."""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from kassa.catalog import images, services
from kassa.catalog.demo_images import picture_png
from kassa.catalog.models import (
    Collection,
    CollectionProduct,
    Item,
    Product,
    ProductImage,
    set_texts,
)
from tests.factories import product_with_variants
from tests.fake_stripe import FakeStripe
from tests.system.browser import test_storefront
from tests.system.browser.conftest import BrowserRun
from tests.system.browser.test_storefront import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

phone_run = test_storefront.phone_run


def _checked(name: str) -> images.CheckedImage:
    content = picture_png(name)
    assert content
    return images.check_upload(ContentFile(content))


def shirt() -> tuple[Product, dict[str, Item], list[ProductImage]]:
    product, items = product_with_variants(
        "Organic cotton T-shirt",
        handle="tee",
        options={"Colour": ["Sand", "Indigo"]},
        price=Decimal("24.00"),
    )
    set_texts(
        product,
        "ru",
        name="Футболка из органического хлопка",
        description="Плотный мягкий хлопок. Носится годами.",
    )
    set_texts(product, "en", description="Soft, heavy cotton. Made to last.")
    product.save()
    wear = Collection.objects.create(name="Wear", name_ru="Одежда", handle="wear")
    CollectionProduct.objects.create(collection=wear, product=product)
    by = {item.option1: item for item in items}
    services.item_save(item=by["Indigo"], new_image=_checked("Organic cotton T-shirt, Indigo"))
    gallery = [
        services.product_image_save(
            image=ProductImage(product=product, position=n, alt=alt, alt_ru=alt_ru),
            new_image=_checked(name),
        )
        for n, (name, alt, alt_ru) in enumerate(
            [
                ("Organic cotton T-shirt, Sand", "The tee, folded", "Футболка, сложенная"),
                ("Linen tea towel", "The fabric up close", "Ткань вблизи"),
            ],
            start=1,
        )
    ]
    return product, by, gallery


@pytest.mark.parametrize("phone_run", ["ru-RU"], indirect=True)
def test_the_product_page_in_russian(phone_run: BrowserRun, fake_stripe: FakeStripe) -> None:
    shirt()
    page = phone_run.page
    page.goto("/products/tee/")
    expect(page.locator("h1")).to_have_text("Футболка из органического хлопка")
    expect(page.locator(".description")).to_contain_text("Плотный мягкий хлопок.")
    expect(page.locator("#variant-image")).to_have_attribute("alt", "Футболка, сложенная")
    expect(page.get_by_role("link", name="Одежда")).to_be_visible()
    assert page.title().startswith("Футболка из органического хлопка")
    assert serious_violations(page) == []
    phone_run.screenshot("product-gallery-phone-ru")


def test_picking_a_variant_switches_the_gallerys_picture(
    browser_run: BrowserRun, fake_stripe: FakeStripe
) -> None:
    _product, by, (first, second) = shirt()
    indigo = Item.objects.get(pk=by["Indigo"].pk)
    page = browser_run.page
    page.goto("/products/tee/")
    image = page.locator("#variant-image")
    # Sand has no picture of its own: the gallery's first.
    expect(image).to_have_attribute("src", first.large_image.url)
    expect(page.locator("a.gallery-thumb")).to_have_count(2)
    page.evaluate("window.kassaNoReload = true")

    page.locator('a.choice[data-value="Indigo"]').click()
    expect(image).to_have_attribute("src", indigo.large_image.url)
    expect(image).to_have_attribute("alt", indigo.name)
    expect(page.locator("#price")).to_have_text("$24.00")
    browser_run.screenshot("product-gallery-indigo")

    page.locator('a.choice[data-value="Sand"]').click()
    expect(image).to_have_attribute("src", first.large_image.url)

    page.locator("a.gallery-thumb").nth(1).click()
    expect(image).to_have_attribute("src", second.large_image.url)
    expect(image).to_have_attribute("alt", "The fabric up close")
    expect(page.locator("a.gallery-thumb").nth(1)).to_have_attribute("aria-current", "true")
    assert page.evaluate("window.kassaNoReload") is True  # all without a reload
    # The picture really loads (a served file, not a broken link): waited for, as a busy
    # machine may still be fetching it; a broken link never gets a width.
    page.wait_for_function(
        "() => { const image = document.getElementById('variant-image');"
        " return image.complete && image.naturalWidth > 0; }"
    )
    assert serious_violations(page) == []
    assert browser_run.page_errors == []
    browser_run.screenshot("product-gallery-thumb")
