"""Products, variants and collections in the admin: the import with its preview, the export
action, and a product of many variants as one light page."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kassa.catalog.models import Item, Product
from tests.catalog.test_shopify_csv import BROKEN, GOOD
from tests.factories import product_with_variants

pytestmark = pytest.mark.django_db

NO_IMAGES = "\n".join(re.sub(r",tee(-back)?\.png,", ",,", line) for line in GOOD.splitlines())


def upload(admin_client: Client, text: str) -> str:
    response = admin_client.post(
        "/admin/catalog/product/import/",
        {"file": SimpleUploadedFile("p.csv", text.encode()), "currency": "usd"},
    )
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_import_previews_then_writes(admin_client: Client) -> None:
    assert 'id="import-products"' in admin_client.get("/admin/catalog/product/").text
    page = upload(admin_client, NO_IMAGES)
    assert "Products: 2 new, 0 changed" in page
    assert "Variants: 4 new, 0 changed, 0 unchanged" in page
    assert "+ variant Organic tee — M / Blue" in page
    assert not Product.objects.exists()  # a preview writes nothing

    [token] = re.findall(r'name="token" value="([0-9a-f]+)"', page)
    done = admin_client.post("/admin/catalog/product/import/", {"token": token, "confirm": "1"})
    assert done.status_code == 302
    assert Item.objects.count() == 4
    # The same file again: nothing to change.
    assert "Variants: 0 new, 0 changed, 4 unchanged" in upload(admin_client, NO_IMAGES)


def test_a_broken_file_shows_its_lines_and_offers_no_import(admin_client: Client) -> None:
    page = upload(admin_client, BROKEN)
    assert 'id="import-errors"' in page
    assert "Line 3: tee: every option needs a value" in page
    assert 'name="confirm"' not in page
    assert not Product.objects.exists()


def test_an_expired_or_forged_preview_imports_nothing(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/catalog/product/import/", {"token": "f" * 32, "confirm": "1"}, follow=True
    )
    assert "The preview has expired" in response.text
    assert not Product.objects.exists()


def test_the_export_action_writes_shopify_csv(admin_client: Client) -> None:
    product, _ = product_with_variants("Tee", options={"Size": ["S", "M"]})
    response = admin_client.post(
        "/admin/catalog/product/",
        {"action": "export_csv", "_selected_action": [product.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = response.content.decode().splitlines()
    assert rows[0].startswith("Handle,Title,Body (HTML)")
    assert len(rows) == 3


def test_a_product_of_400_variants_is_one_light_page(admin_client: Client) -> None:
    small, _ = product_with_variants("Small", options={"Size": ["S", "M"]})
    big, _ = product_with_variants("Big", options={"Size": [str(n) for n in range(400)]})

    def load(product: Product) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/").text
        return len(captured), page

    load(small)  # warms what the admin caches per process (content types)
    few, _ = load(small)
    many, page = load(big)
    assert many == few
    assert page.count("/admin/catalog/item/") <= 60  # 50 variants shown, then a link to all
    assert f"?product__id__exact={big.pk}" in page
    listing = admin_client.get(f"/admin/catalog/item/?product__id__exact={big.pk}")
    assert listing.status_code == 200
    assert "400 items" in listing.text
