# ruff: noqa: E501 - CSV rows are written as a file has them, one line each
"""Shopify's product CSV: options, continuation rows, images and HTML bodies in; line-numbered
errors and nothing written; re-import changes nothing; export → import gives the same catalog."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.test import Client

from kassa.catalog import shopify_csv
from kassa.catalog.demo_images import picture_png
from kassa.catalog.models import Collection, CollectionProduct, Item, Product, ProductImage

pytestmark = pytest.mark.django_db

HEADER = (
    "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,"
    "Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,"
    "Variant Inventory Qty,Variant Price,Variant Compare At Price,Variant Requires Shipping,"
    "Image Src,Image Position,Image Alt Text,Variant Image,Status,Collection"
)
GOOD = f"""{HEADER}
tee,Organic tee,"<p>Soft <b>cotton</b>.</p><script>alert(1)</script><img src=x onerror=alert(1)>",Acme,Shirts,,TRUE,Size,S,Colour,Red,,,TEE-S-R,200,5,20.00,,TRUE,tee.png,1,A red tee,,active,"Wear, Summer"
tee,,,,,,,,M,,Red,,,TEE-M-R,200,0,20.00,,TRUE,,,,,,
tee,,,,,,,,M,,Blue,,,TEE-M-B,200,7,22.50,,TRUE,,,,,,
tee,,,,,,,,,,,,,,,,,,,tee-back.png,2,The back,,,
mug,Mug,<p>A mug.</p>,,,,TRUE,Title,Default Title,,,,,MUG-1,,,9.90,,FALSE,,,,,active,Summer
"""
BROKEN = f"""{HEADER}
tee,Organic tee,<p>Soft.</p>,,,,TRUE,Size,S,Colour,Red,,,TEE-S-R,,5,20.00,,TRUE,,,,,active,
tee,,,,,,,,M,,,,,TEE-M-R,,0,20.00,,TRUE,,,,,,
tee,,,,,,,,M,,Blue,,,TEE-S-R,,7,abc,,TRUE,,,,,,
Bad Handle,X,,,,,TRUE,,,,,,,,,,1.00,,,,,,,,
mug,Mug,,,,,TRUE,Title,Default Title,,,,,MUG-1,,many,9.90,,maybe,,,,,active,
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    front, back = picture_png("Ceramic mug"), picture_png("Linen tea towel")
    assert front
    assert back
    (tmp_path / "tee.png").write_bytes(front)
    (tmp_path / "tee-back.png").write_bytes(back)
    return tmp_path


def run_import(tmp_path: Path, text: str, *args: str) -> str:
    path = tmp_path / "products.csv"
    path.write_text(text)
    out = io.StringIO()
    call_command("import_products", str(path), *args, stdout=out)
    return out.getvalue()


def test_a_broken_file_reports_its_lines_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(BROKEN)
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_products", str(path), stderr=err)
    lines = err.getvalue()
    assert f"{path}:3: tee: every option needs a value" in lines
    assert f"{path}:4: Variant Price 'abc' is not a price" in lines
    assert f"{path}:5: the handle 'Bad Handle'" in lines
    assert f"{path}:6: Variant Inventory Qty 'many'" in lines
    assert not Product.objects.exists()
    assert not Item.objects.exists()


def test_the_fixed_file_makes_products_variants_images_and_collections(
    tmp_path: Path, folder: Path, client: Client
) -> None:
    out = run_import(tmp_path, GOOD, "--images", str(folder), "--currency", "EUR")
    assert "2 products created" in out
    assert "4 variants created" in out

    tee = Product.objects.get(handle="tee")
    assert (tee.name, tee.option1_name, tee.option2_name) == ("Organic tee", "Size", "Colour")
    assert tee.body_html == "<p>Soft <b>cotton</b>.</p>"  # the script and the handler gone
    assert tee.description == "Soft cotton."
    variants = list(tee.variants.order_by("position"))
    assert [(v.option1, v.option2, v.sku, v.price, v.stock, v.currency) for v in variants] == [
        ("S", "Red", "TEE-S-R", Decimal("20.000"), 5, "eur"),
        ("M", "Red", "TEE-M-R", Decimal("20.000"), 0, "eur"),
        ("M", "Blue", "TEE-M-B", Decimal("22.500"), 7, "eur"),
    ]
    # The Image Src pictures are the product's gallery, checked and sized; the variants name
    # none of their own.
    gallery = list(tee.images.all())
    assert [(g.position, g.alt, g.source) for g in gallery] == [
        (1, "A red tee", "tee.png"),
        (2, "The back", "tee-back.png"),
    ]
    assert all(g.card_image and g.large_image for g in gallery)
    assert not any(v.image for v in variants)
    mug = Item.objects.get(sku="MUG-1")
    assert mug.product is not None
    assert mug.product.option_names == []
    assert mug.requires_shipping is False
    assert sorted(Collection.objects.values_list("name", flat=True)) == ["Summer", "Wear"]
    assert CollectionProduct.objects.filter(collection__name="Summer").count() == 2

    page = client.get("/products/tee/").text
    assert "<p>Soft <b>cotton</b>.</p>" in page
    assert "onerror" not in page
    assert "alert(1)" not in page.split("ld+json")[0]


def test_reimporting_changes_nothing_and_a_changed_price_updates_in_place(
    tmp_path: Path, folder: Path
) -> None:
    run_import(tmp_path, GOOD, "--images", str(folder))
    ids = dict(Item.objects.values_list("sku", "pk"))
    out = run_import(tmp_path, GOOD, "--images", str(folder))
    assert "0 products created, 0 updated; 0 variants created, 0 updated, 4 unchanged" in out
    assert ProductImage.objects.count() == 2  # found again, not copied

    changed = GOOD.replace("TEE-M-B,200,7,22.50", "TEE-M-B,200,3,24.00")
    out = run_import(tmp_path, changed, "--images", str(folder))
    assert "0 variants created, 1 updated, 3 unchanged" in out
    blue = Item.objects.get(sku="TEE-M-B")
    assert (blue.pk, blue.price, blue.stock) == (ids["TEE-M-B"], Decimal("24.000"), 3)


def test_a_dry_run_writes_nothing(tmp_path: Path, folder: Path) -> None:
    out = run_import(tmp_path, GOOD, "--images", str(folder), "--dry-run")
    assert out.startswith("Would import (dry run): 2 products created")
    assert not Product.objects.exists()


def test_export_then_import_into_an_empty_shop_gives_the_same_catalog(
    tmp_path: Path, folder: Path
) -> None:
    run_import(tmp_path, GOOD, "--images", str(folder))
    Item.objects.filter(sku="MUG-1").update(currency="jpy", price=Decimal("1800"))

    def catalog() -> list[tuple[object, ...]]:
        return sorted(
            Item.objects.values_list(
                "product__handle",
                "product__name",
                "product__description",
                "product__option1_name",
                "product__option2_name",
                "option1",
                "option2",
                "sku",
                "price",
                "currency",
                "stock",
                "requires_shipping",
                "is_active",
                "position",
            )
        )

    def gallery() -> list[tuple[object, ...]]:
        return sorted(ProductImage.objects.values_list("product__handle", "position", "alt"))

    before, gallery_before = catalog(), gallery()
    assert len(gallery_before) == 2
    collections_before = sorted(
        CollectionProduct.objects.values_list("collection__name", "product__handle")
    )
    exported = tmp_path / "export.csv"
    call_command("export_products", str(exported), stdout=io.StringIO())
    CollectionProduct.objects.all().delete()
    Collection.objects.all().delete()
    Item.objects.all().delete()
    Product.objects.all().delete()

    # The images by the names the export gives them: the files in the shop's media folder.
    run_import(tmp_path, exported.read_text(), "--images", default_storage.path("items"))

    assert catalog() == before
    assert gallery() == gallery_before
    assert (
        sorted(CollectionProduct.objects.values_list("collection__name", "product__handle"))
        == collections_before
    )
    # And exporting again gives the same file.
    again = tmp_path / "again.csv"
    call_command("export_products", str(again), stdout=io.StringIO())
    assert again.read_text() == exported.read_text()


def test_body_html_is_sanitised() -> None:
    dirty = '<p onclick="x()">Hi <a href="javascript:alert(1)">a</a><iframe src="//x"></iframe></p>'
    assert shopify_csv.sanitise_body(dirty) == '<p>Hi <a rel="nofollow noopener">a</a></p>'
