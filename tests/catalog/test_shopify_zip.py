"""A Shopify CSV in a ZIP with its pictures (a shop moved offline): the pictures are found by the
file names Image Src and Variant Image end in; a bad, oversized or missing picture, or an archive
that is not one, is refused with a clear message and nothing is written."""

import io
import os
import re
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from PIL import Image

from kassa.catalog.models import Item, Product, ProductImage
from tests.images import picture

pytestmark = pytest.mark.django_db

HEADER = (
    "Handle,Title,Body (HTML),Vendor,Type,Tags,Published,Option1 Name,Option1 Value,"
    "Option2 Name,Option2 Value,Option3 Name,Option3 Value,Variant SKU,Variant Grams,"
    "Variant Inventory Qty,Variant Price,Variant Compare At Price,Variant Requires Shipping,"
    "Image Src,Image Position,Image Alt Text,Variant Image,Status"
)
CDN = "https://cdn.shopify.com/s/files/1/0001/products"
CSV = (
    f"{HEADER}\n"
    f"tee,Tee,<p>Cotton.</p>,,,,TRUE,Colour,Red,,,,,TEE-R,,5,20.00,,TRUE,"
    f"{CDN}/tee-front.jpg?v=1700,1,The front,{CDN}/tee-red.jpg?v=2,active\n"
    f"tee,,,,,,,,Blue,,,,,TEE-B,,5,20.00,,TRUE,,,,,\n"
    f"tee,,,,,,,,,,,,,,,,,,,{CDN}/tee-back.jpg?v=1700,2,The back,,\n"
)


def archive(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, content in files.items():
            zipped.writestr(name, content)
    return out.getvalue()


def good_files() -> dict[str, bytes]:
    return {
        "export/products_export.csv": CSV.encode(),
        "export/images/tee-front.jpg": picture("JPEG", color="#aa3333"),
        "export/images/tee-back.jpg": picture("JPEG", color="#3333aa"),
        "export/images/tee-red.jpg": picture("JPEG", color="#ff0000"),
        "export/readme.txt": b"not a picture, and not named by the file: left alone",
    }


def run(tmp_path: Path, content: bytes, *args: str) -> tuple[str, str]:
    path = tmp_path / "shop.zip"
    path.write_bytes(content)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_products", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_zip_brings_the_csv_and_its_pictures(tmp_path: Path) -> None:
    out, _err = run(tmp_path, archive(good_files()))
    assert "1 products created" in out
    tee = Product.objects.get(handle="tee")
    gallery = list(tee.images.all())
    assert [(g.position, g.alt) for g in gallery] == [(1, "The front"), (2, "The back")]
    assert all(g.card_image and g.large_image for g in gallery)
    red, blue = tee.variants.order_by("position")
    assert red.large_image  # its own Variant Image
    assert not blue.image  # none: the page shows the gallery's first
    # Importing the same archive again changes nothing.
    out, _err = run(tmp_path, archive(good_files()))
    assert "0 variants created, 0 updated, 2 unchanged" in out
    assert ProductImage.objects.count() == 2


def _refused(tmp_path: Path, content: bytes) -> str:
    with pytest.raises(CommandError) as raised:
        run(tmp_path, content)
    assert not Product.objects.exists()
    assert not Item.objects.exists()
    assert not ProductImage.objects.exists()
    return str(raised.value)


@override_settings(SHOP_MAX_IMAGE_MB=0.05)
def test_an_oversized_picture_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    files = good_files()
    noise = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    files["export/images/tee-back.jpg"] = out.getvalue()  # about 270 kB
    message = _refused(tmp_path, archive(files))
    assert "tee-back.jpg: larger than 0.05 MB" in message
    assert "Nothing was imported" in message


def test_a_file_that_is_not_a_picture_is_an_error_of_its_line(tmp_path: Path) -> None:
    files = good_files()
    files["export/images/tee-back.jpg"] = b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"
    path = tmp_path / "shop.zip"
    path.write_bytes(archive(files))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_products", str(path), stderr=err)
    assert re.search(
        r"shop\.zip:4: image .*tee-back\.jpg.*SVG images are not accepted", err.getvalue()
    )
    assert not Product.objects.exists()
    assert not ProductImage.objects.exists()


def test_a_picture_missing_from_the_archive_is_an_error_of_its_line(tmp_path: Path) -> None:
    files = good_files()
    del files["export/images/tee-red.jpg"]
    # The file names a CDN this machine cannot reach: a local one that refuses.
    offline = CSV.replace(f"{CDN}/tee-red.jpg?v=2", "tee-red.jpg")
    files["export/products_export.csv"] = offline.encode()
    path = tmp_path / "shop.zip"
    path.write_bytes(archive(files))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_products", str(path), stderr=err)
    assert (
        "shop.zip:2: image tee-red.jpg: no file named tee-red.jpg in the archive" in err.getvalue()
    )
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (archive({"a.csv": CSV.encode(), "b.csv": CSV.encode()}), "exactly one .csv file"),
        (archive({"images/tee-front.jpg": picture()}), "exactly one .csv file (found: none)"),
        (
            archive({"a.csv": CSV.encode(), "x/p.jpg": picture(), "y/p.jpg": picture("PNG")}),
            "Two different files are named p.jpg",
        ),
        (archive({"a.csv": "Handle,Title\n".encode("utf-16")}), "a.csv is not UTF-8 text"),
    ],
)
def test_an_archive_the_import_cannot_use_is_refused(
    tmp_path: Path, content: bytes, says: str
) -> None:
    assert says in _refused(tmp_path, content)


def test_a_damaged_archive_is_refused(tmp_path: Path) -> None:
    content = archive(good_files())
    broken = content[:200] + b"\x00" * 200 + content[400:]
    message = _refused(tmp_path, broken)
    assert "damaged" in message or "not a ZIP" in message


def test_the_admin_previews_and_imports_a_zip(tmp_path: Path) -> None:
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests")
    client = Client()
    client.login(username="staff", password="pw-for-tests")
    upload = SimpleUploadedFile("shop.zip", archive(good_files()), "application/zip")
    page = client.post("/admin/catalog/product/import/", {"file": upload, "currency": "usd"}).text
    assert "+ image tee-front.jpg of tee" in page
    assert not Product.objects.exists()  # a preview writes nothing
    [token] = re.findall(r'name="token" value="([0-9a-f]+)"', page)
    done = client.post("/admin/catalog/product/import/", {"confirm": "1", "token": token})
    assert done.status_code == 302
    assert ProductImage.objects.filter(product__handle="tee").count() == 2

    bad = good_files()
    bad["export/images/tee-front.jpg"] = b"GIF89a not really"
    upload = SimpleUploadedFile("shop.zip", archive(bad), "application/zip")
    page = client.post("/admin/catalog/product/import/", {"file": upload, "currency": "usd"}).text
    assert "tee-front.jpg" in page
    assert "not a picture the shop can show" in page
