"""Item images: only real pictures are taken, stored once in the sizes the pages show, and
shown on the catalog, the item page and the cart; a refused upload stores nothing."""

import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog import images, services
from kassa.catalog.models import Item
from kassa.common.media import is_content_addressed
from tests.factories import ItemFactory
from tests.images import SVG, picture, png_claiming, png_strip
from tests.production_env import ROOT

pytestmark = pytest.mark.django_db


def stored_files(settings: SettingsWrapper) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def with_image(content: bytes, **fields: object) -> Item:
    item = ItemFactory.build(**fields)
    return services.item_save(item=item, new_image=images.check_upload(ContentFile(content)))


def admin_form(item: Item | None = None, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name_en": item.name if item else "Teapot",
        "description_en": "",
        "price": str(item.price) if item else "30.00",
        "currency": "usd",
        "is_active": "on",
        "requires_shipping": "on",
        "image_alt_en": "",
        # The stock the change page showed (blank: not tracked).
        "stock_seen": "" if item is None or item.stock is None else str(item.stock),
    }
    data.update(changes)
    return data


# --- what is taken ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_real_pictures_are_taken(fmt: str) -> None:
    checked = images.check_upload(ContentFile(picture(fmt, (640, 480))))
    assert (checked.format, checked.width, checked.height) == (fmt, 640, 480)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"just some text, named mug.jpg", "not a picture"),
        (SVG, "SVG images are not accepted"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG images are not accepted"),
        (picture("JPEG")[:2000], "not a picture"),  # cut short: its pixels do not decode
        (picture("BMP", (40, 30)), "not a picture"),  # Pillow reads it; the shop does not
        (png_claiming(10_000, 6_000), "more than 50 megapixels"),
        # Past twice Pillow's own limit, Pillow refuses to open it at all (DecompressionBombError).
        (png_claiming(20_000, 20_000), "more than 50 megapixels"),
    ],
    ids=["text", "svg", "svg-with-spaces", "truncated", "bmp", "60-megapixels", "bomb"],
)
def test_files_that_are_not_pictures_the_shop_shows_are_refused(content: bytes, says: str) -> None:
    with pytest.raises(images.ImageRejected, match=says):
        images.check_upload(ContentFile(content))


def _peak_memory_of_checking(content: bytes, folder: Path) -> tuple[str, int]:
    """check_upload(content) in a fresh process: its answer, and the process's peak memory."""
    upload = folder / "upload.bin"
    upload.write_bytes(content)
    script = (
        "import resource, django; django.setup()\n"
        "from django.core.files.base import ContentFile\n"
        "from kassa.catalog import images\n"
        f"content = open({str(upload)!r}, 'rb').read()\n"
        "try:\n"
        "    answer = images.check_upload(ContentFile(content)).format\n"
        "except images.ImageRejected as refused:\n"
        "    answer = str(refused)\n"
        "print(answer); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test"},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    answer, peak_kb = ran.stdout.strip().splitlines()[-2:]
    return answer, int(peak_kb)


def test_a_strip_of_fifty_million_pixels_is_refused_from_its_header(tmp_path: Path) -> None:
    """97 KB of PNG, 1 × 50,000,000 pixels: within the pixel count, yet decoding it and making
    the pages' sizes from it took half a minute and a gigabyte. Refused before any pixel is
    decoded: the checking process grows no more than when it takes a small picture."""
    strip = png_strip(1, 50_000_000)
    assert len(strip) < 200_000

    refused, peak_refusing = _peak_memory_of_checking(strip, tmp_path)
    taken, peak_taking = _peak_memory_of_checking(picture("PNG", (640, 480)), tmp_path)

    assert refused == "The image is more than 12000 pixels wide or high."
    assert taken == "PNG"
    assert peak_refusing < peak_taking + 20_000  # kilobytes: the upload's own bytes, no more


@pytest.mark.parametrize("size", [(12_001, 10), (10, 12_001)])
def test_a_side_longer_than_the_limit_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(images.ImageRejected, match="more than 12000 pixels wide or high"):
        images.check_upload(ContentFile(png_claiming(*size)))


def test_a_file_over_the_limit_is_refused_before_it_is_read(settings: SettingsWrapper) -> None:
    settings.SHOP_MAX_IMAGE_MB = 1
    big = ContentFile(picture("PNG", (2000, 2000)) + b"\x00" * (1024 * 1024))
    with pytest.raises(images.ImageRejected, match="larger than 1 MB"):
        images.check_upload(big)


# --- what is stored -----------------------------------------------------------------------------


def test_an_image_is_stored_in_the_sizes_the_pages_show(settings: SettingsWrapper) -> None:
    item = with_image(picture("PNG", (1600, 800)))

    assert (item.card_width, item.card_height) == images.CARD_SIZE
    assert (item.large_width, item.large_height) == (960, 480)  # proportions kept
    for field in (item.image, item.card_image, item.large_image):
        assert is_content_addressed(field.name or ""), field.name
    with Image.open(item.card_image.path) as card:
        assert (card.format, card.size) == ("JPEG", images.CARD_SIZE)
    with Image.open(item.large_image.path) as large:
        assert (large.format, large.size, large.mode) == ("JPEG", (960, 480), "RGB")
    assert len(stored_files(settings)) == 3


def test_a_small_picture_is_never_enlarged() -> None:
    item = with_image(picture("JPEG", (300, 200)))
    assert (item.large_width, item.large_height) == (300, 200)


def test_the_same_picture_twice_is_stored_once(settings: SettingsWrapper) -> None:
    content = picture("JPEG")
    first, second = with_image(content), with_image(content)
    assert first.card_image.name == second.card_image.name
    assert len(stored_files(settings)) == 3


def test_a_photo_keeps_no_metadata_and_stands_upright() -> None:
    photo = Image.new("RGB", (400, 200), "#884422")
    exif = photo.getexif()
    exif[0x0112] = 6  # Orientation: the camera was turned; shown rotated 90°
    exif[0x010F] = "A phone maker"
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", exif=exif)
    out = ContentFile(buffer.getvalue())

    item = services.item_save(item=ItemFactory.build(), new_image=images.check_upload(out))

    assert (item.large_width, item.large_height) == (200, 400)
    with Image.open(item.large_image.path) as large:
        assert not large.getexif()


def _tagged_photo() -> bytes:
    """A phone photo as it comes: turned, with its GPS position, maker, XMP and a comment."""
    photo = Image.new("RGB", (400, 200), "#884422")
    exif = photo.getexif()
    exif[0x0112] = 6  # Orientation: shown rotated 90°
    exif[0x010F] = "A phone maker"
    gps = exif.get_ifd(0x8825)
    gps[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    gps[1] = "N"
    buffer = io.BytesIO()
    photo.save(
        buffer, "JPEG", exif=exif, comment=b"shot at home", xmp=b"<x:xmpmeta>home</x:xmpmeta>"
    )
    return buffer.getvalue()


def _tagged_png() -> bytes:
    info = PngInfo()
    info.add_text("Location", "52.52N 13.40E")
    image = Image.new("RGBA", (300, 200), (10, 20, 30, 128))
    exif = image.getexif()
    exif[0x010F] = "A phone maker"
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize("content", [_tagged_photo(), _tagged_png()], ids=["jpeg", "png"])
def test_the_stored_original_keeps_no_metadata(client: Client, content: bytes) -> None:
    """Every stored file is served to whoever has its address, the original too: it is kept
    upright, in its format, without EXIF (GPS), XMP, comments or text."""
    checked = images.check_upload(ContentFile(content))
    item = services.item_save(item=ItemFactory.build(), new_image=checked)

    served = client.get(item.image.url)
    stored = b"".join(served.streaming_content)  # type: ignore[attr-defined]
    assert served.status_code == 200
    with Image.open(io.BytesIO(stored)) as original:
        assert original.format == checked.format
        assert not original.getexif()
        assert not {"exif", "xmp", "comment", "Location"} & set(original.info)
        upright = (200, 400) if checked.format == "JPEG" else (300, 200)
        assert original.size == upright
    for secret in (b"A phone maker", b"shot at home", b"home</x:xmpmeta>", b"52.52N"):
        assert secret not in stored


# --- the admin --------------------------------------------------------------------------------


def test_staff_upload_an_image_in_the_admin_and_see_it_previewed(
    admin_client: Client, settings: SettingsWrapper
) -> None:
    upload = SimpleUploadedFile("teapot.jpg", picture("JPEG"), content_type="image/jpeg")
    response = admin_client.post(
        "/admin/catalog/item/add/", admin_form(image=upload, image_alt_en="A white teapot")
    )
    assert response.status_code == 302, response.text
    item = Item.objects.get()
    assert item.image_alt == "A white teapot"
    assert item.card_image
    assert item.large_image
    page = admin_client.get(f"/admin/catalog/item/{item.pk}/change/").text
    assert f'src="{item.card_image.url}"' in page
    assert f'src="{item.card_image.url}"' in admin_client.get("/admin/catalog/item/").text


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("mug.jpg", b"not an image at all", "not a picture"),
        ("logo.svg", SVG, "SVG"),
        ("bomb.png", png_claiming(20_000, 20_000), "megapixels"),
    ],
    ids=["text-as-jpg", "svg", "bomb"],
)
def test_a_refused_upload_is_a_form_error_and_writes_nothing(
    admin_client: Client, settings: SettingsWrapper, name: str, content: bytes, says: str
) -> None:
    item = with_image(picture("JPEG"), name="Mug", price=Decimal("10.00"))
    before = (item.image.name, item.card_image.name, item.updated_at)
    files = stored_files(settings)

    upload = SimpleUploadedFile(name, content)
    response = admin_client.post(
        f"/admin/catalog/item/{item.pk}/change/", admin_form(item, image=upload, name_en="Renamed")
    )

    assert response.status_code == 200  # the form again, with the error
    errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.text, re.S)
    assert any(says in error for error in errors), errors
    item.refresh_from_db()
    assert (item.image.name, item.card_image.name, item.updated_at) == before
    assert item.name == "Mug"
    assert stored_files(settings) == files


def test_a_30_mb_upload_is_refused(admin_client: Client, settings: SettingsWrapper) -> None:
    upload = SimpleUploadedFile("huge.jpg", picture("JPEG") + b"\x00" * (30 * 1024 * 1024))
    response = admin_client.post("/admin/catalog/item/add/", admin_form(image=upload))
    assert response.status_code == 200
    assert "larger than 5 MB" in response.text
    assert not Item.objects.exists()
    assert stored_files(settings) == []


def test_clearing_the_image_in_the_admin_clears_its_sizes(admin_client: Client) -> None:
    item = with_image(picture("JPEG"))
    response = admin_client.post(
        f"/admin/catalog/item/{item.pk}/change/", admin_form(item, **{"image-clear": "on"})
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert not item.image
    assert not item.card_image
    assert not item.large_image
    assert item.card_width == item.large_width == 0


# --- the pages --------------------------------------------------------------------------------


def test_the_pages_show_the_image_with_its_size_and_description(client: Client) -> None:
    item = with_image(picture("JPEG"), name="Teapot", image_alt="A white teapot")
    card = re.search(r'<img class="card-image"[^>]*>', client.get("/").text)
    assert card, "no image on the card"
    assert f'src="{item.card_image.url}"' in card.group(0)
    assert 'width="480" height="360"' in card.group(0)
    assert 'alt="A white teapot"' in card.group(0)

    page = client.get(f"/item/{item.pk}/").text
    large = re.search(r'<img class="item-image"[^>]*>', page)
    assert large
    assert f'width="{item.large_width}" height="{item.large_height}"' in large.group(0)
    assert 'alt="A white teapot"' in large.group(0)


def test_a_page_in_another_language_describes_the_image_by_the_items_name(
    client: Client,
) -> None:
    with_image(picture("JPEG"), name="Teapot", image_alt="A white teapot")
    page = client.get("/", headers={"Accept-Language": "ru"}).text
    assert 'alt="Teapot"' in page
    assert "A white teapot" not in page


def test_an_item_without_an_image_shows_the_placeholder(client: Client) -> None:
    item = ItemFactory.create()
    assert "placeholder.svg" in client.get("/").text
    assert "placeholder.svg" in client.get(f"/item/{item.pk}/").text


def test_the_cart_shows_each_lines_image(client: Client) -> None:
    item = with_image(picture("JPEG"), name="Teapot")
    page = client.get("/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token
    added = client.post(
        f"/item/{item.pk}/add-to-order/", {"csrfmiddlewaretoken": token.group(1)}, follow=True
    )
    line = re.search(r'<img class="line-image"[^>]*>', added.text)
    assert line, "no image on the cart line"
    assert f'src="{item.card_image.url}"' in line.group(0)
    assert 'alt=""' in line.group(0)  # the item's name is the link beside it


def test_stored_images_are_served_with_a_long_cache(client: Client) -> None:
    item = with_image(picture("JPEG"))
    response = client.get(item.card_image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # type: ignore[attr-defined]


def test_a_file_not_named_by_its_content_is_cached_briefly(
    client: Client, settings: SettingsWrapper
) -> None:
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    (root / "banner.jpg").write_bytes(picture("JPEG", (10, 10)))
    response = client.get("/media/banner.jpg")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=86400"


@pytest.mark.parametrize(
    "path",
    [
        "/media/../config/settings.py",
        "/media/%2e%2e/config/settings.py",
        "/media/..%2fconfig%2fsettings.py",
        "/media//etc/passwd",
        "/media/items/",
        "/media/items/missing.jpg",
    ],
)
def test_nothing_outside_the_media_folder_is_served(
    client: Client, settings: SettingsWrapper, path: str
) -> None:
    with_image(picture("JPEG"))
    settings_file = Path(settings.BASE_DIR) / "config" / "settings.py"
    assert settings_file.exists()
    response = client.get(path)
    # 404, or Django's 400 for a path that leaves the folder (SuspiciousFileOperation).
    assert response.status_code in (400, 404)
    assert b"SECRET_KEY" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_media_is_only_read(client: Client) -> None:
    item = with_image(picture("JPEG"))
    assert client.post(item.card_image.url).status_code == 405


def test_staff_set_up_a_digital_item_that_needs_no_shipping(admin_client: Client) -> None:
    page = admin_client.get("/admin/catalog/item/add/").text
    assert 'name="requires_shipping"' in page
    data = admin_form(name_en="E-book")
    del data["requires_shipping"]  # the box left unticked

    response = admin_client.post("/admin/catalog/item/add/", data)

    assert response.status_code == 302, response.text
    item = Item.objects.get()
    assert item.requires_shipping is False
    shipped = admin_client.post(
        f"/admin/catalog/item/{item.pk}/change/", admin_form(item, requires_shipping="on")
    )
    assert shipped.status_code == 302, shipped.text
    item.refresh_from_db()
    assert item.requires_shipping is True
