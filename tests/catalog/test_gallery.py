"""A product's own pictures: a gallery in order on its page, a variant's own picture taking over
while it is chosen, and the catalog's card showing the product's first picture when its variant
has none, at a cost in queries that does not grow with the page."""

import json
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kassa.catalog import images, services
from kassa.catalog.models import Collection, Item, Product, ProductImage
from tests.factories import product_with_variants
from tests.images import picture

pytestmark = pytest.mark.django_db


def checked(color: str) -> images.CheckedImage:
    return images.check_upload(ContentFile(picture("JPEG", color=color)))


def with_gallery(name: str, handle: str, *colors: str) -> tuple[Product, list[Item]]:
    product, variants = product_with_variants(
        name, handle=handle, options={"Colour": ["Red", "Blue"]}
    )
    for position, color in enumerate(colors, start=1):
        services.product_image_save(
            image=ProductImage(product=product, position=position, alt=f"View {position}"),
            new_image=checked(color),
        )
    return product, variants


def main_image(page: str) -> str:
    found = re.search(r'<img class="item-image" id="variant-image" src="([^"]+)"', page)
    assert found, "no picture on the page"
    return found.group(1)


def test_the_product_page_shows_its_gallery_and_a_variants_own_picture() -> None:
    product, (red, blue) = with_gallery("Tee", "tee", "#aa0000", "#0000aa")
    services.item_save(item=blue, new_image=checked("#00ff00"))
    first, second = product.images.all()
    blue.refresh_from_db()

    page = Client().get("/products/tee/").text
    # Red has no picture of its own: the gallery's first is shown, and every picture is a thumb.
    assert main_image(page) == first.large_image.url
    thumbs = re.findall(r'<a class="gallery-thumb" href="([^"]+)"', page)
    assert thumbs == [first.large_image.url, second.large_image.url]
    assert 'alt="View 1"' in page
    data = json.loads(re.search(r'id="variants-data"[^>]*>(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    by_id = {v["id"]: v for v in data}
    assert by_id[red.pk]["image"] == first.large_image.url
    assert by_id[blue.pk]["image"] == blue.large_image.url
    assert by_id[blue.pk]["width"] == blue.large_width

    # Blue chosen (without script: its link): its own picture takes over.
    chosen = Client().get(f"/products/tee/?variant={blue.pk}").text
    assert main_image(chosen) == blue.large_image.url
    assert Client().get(f"/item/{blue.pk}/").text.count(blue.large_image.url) >= 1
    # Search engines see the gallery too.
    assert first.large_image.url in chosen.split("ld+json")[1]


def test_a_product_without_pictures_keeps_the_placeholder_and_no_gallery() -> None:
    product_with_variants("Plain", handle="plain", options={"Colour": ["Red", "Blue"]})
    page = Client().get("/products/plain/").text
    assert 'class="item-image placeholder"' in page
    assert 'id="gallery"' not in page


def test_the_card_shows_the_products_first_picture_when_its_variant_has_none() -> None:
    product, _variants = with_gallery("Tee", "tee", "#aa0000", "#0000aa")
    first = product.images.first()
    assert first is not None
    page = Client().get("/").text
    assert f'src="{first.card_image.url}"' in page
    assert 'alt="View 1"' in page


def test_cards_with_gallery_pictures_cost_the_same_queries_whatever_their_number() -> None:
    def catalog_queries() -> int:
        Client().get("/")  # what the process keeps
        Product.objects.first().save()  # type: ignore[union-attr]  # a new revision: rendered afresh
        with CaptureQueriesContext(connection) as queries:
            Client().get("/")
        return len(queries)

    with_gallery("Tee 0", "tee-0", "#aa0000")
    one = catalog_queries()
    for n in range(1, 6):
        with_gallery(f"Tee {n}", f"tee-{n}", "#aa0000")
    assert catalog_queries() == one


def test_a_collection_shows_its_picture_uploaded_in_the_admin(admin_client: Client) -> None:
    upload = SimpleUploadedFile("kitchen.jpg", picture("JPEG", color="#336699"), "image/jpeg")
    response = admin_client.post(
        "/admin/catalog/collection/add/",
        {
            "name_en": "Kitchen",
            "name_ru": "Кухня",
            "handle": "kitchen",
            "description_en": "",
            "description_ru": "",
            "image": upload,
            "position": "0",
            "is_active": "on",
            "entries-TOTAL_FORMS": "0",
            "entries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    kitchen = Collection.objects.get(handle="kitchen")
    assert kitchen.large_image  # sized as an item's upload
    assert kitchen.card_image
    page = Client().get("/collections/kitchen/").text
    assert f'class="collection-image" src="{kitchen.large_image.url}"' in page
    assert f'<meta property="og:image" content="{kitchen.large_image.url}">' in page

    refused = admin_client.post(
        f"/admin/catalog/collection/{kitchen.pk}/change/",
        {
            "name_en": "Kitchen",
            "handle": "kitchen",
            "image": SimpleUploadedFile("x.jpg", b"<svg></svg>", "image/jpeg"),
            "position": "0",
            "is_active": "on",
            "entries-TOTAL_FORMS": "0",
            "entries-INITIAL_FORMS": "0",
        },
    )
    assert refused.status_code == 200
    assert "SVG images are not accepted" in refused.content.decode()
