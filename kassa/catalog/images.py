"""Item images: an upload checked to be a real picture, and the sizes the pages show, made once.

Pillow directly rather than an image library (django-imagekit, sorl-thumbnail): the pages show
two fixed sizes, made once when staff upload, so there is nothing to generate lazily while a
page renders (those libraries check storage, and a cache, on a page's first view of a size: a
network round trip per image when images live in S3). What is left is about fifty lines.

Every file is stored under its content's hash: an address never shows other bytes, so pages
and the media view may tell browsers to keep it for a year.
"""

import io
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from kassa.common.media import content_name

# What cards and the item page show: a card crops to 4:3, the item page keeps the proportions.
# Both are twice their CSS size on the pages, for sharp pictures on high-density screens.
CARD_SIZE = (480, 360)
LARGE_SIZE = (960, 960)
# Pictures the renditions are made from. Others (TIFF, BMP, PSD, ICO, ...) Pillow may open, but
# a browser would not show the original, and each format is code that reads untrusted bytes.
ACCEPTED_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
# A 50-megapixel photo decodes to 150 MB (200 MB with transparency); a small file claiming more
# is a decompression bomb.
MAX_PIXELS = 50_000_000
# And no side longer than this: a 1 × 50,000,000 strip is within the pixels, yet a PNG decodes
# it row by row (50 million rows) and the sizes the pages show are made from it.
MAX_SIDE = 12_000
# What an original keeps of its file's metadata: how to show its colours and transparency.
# The rest goes (EXIF with a phone's GPS position and the camera's serial, XMP, comments, text).
KEPT_INFO = ("icc_profile", "transparency")
ORIGINAL_QUALITY = 95
# JPEG for every rendition: Stripe Checkout (product images), every browser and mail client
# show it; the sizes are small enough that WebP's saving is a few kilobytes a card.
JPEG_QUALITY = 82
BACKGROUND = (255, 255, 255)


class ImageRejected(ValueError):
    """An upload that is not an image the shop takes, with the reason in the visitor's words."""


@dataclass(frozen=True)
class CheckedImage:
    """An upload that passed `check_upload`: its bytes, and what Pillow found them to be."""

    content: bytes
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int


def max_upload_mb() -> str:
    """The limit as staff read it: "5", "2.5"."""
    return f"{settings.SHOP_MAX_IMAGE_MB:g}"


def max_upload_bytes() -> int:
    return int(settings.SHOP_MAX_IMAGE_MB * 1024 * 1024)


def check_upload(upload: File[bytes]) -> CheckedImage:
    """The upload, if it is a picture the shop takes: at most SHOP_MAX_IMAGE_MB, one of
    ACCEPTED_FORMATS, at most MAX_PIXELS, and whole (Pillow decodes all of it)."""
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise ImageRejected(
            _("The image is larger than %(limit)s MB.") % {"limit": max_upload_mb()}
        )
    upload.seek(0)
    content = upload.read(limit + 1)
    if len(content) > limit:
        raise ImageRejected(
            _("The image is larger than %(limit)s MB.") % {"limit": max_upload_mb()}
        )
    head = content[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        raise ImageRejected(_("SVG images are not accepted: upload a JPEG, PNG or WebP picture."))
    not_an_image = ImageRejected(
        _("The file is not a picture the shop can show: upload a JPEG, PNG or WebP image.")
    )
    try:
        # Opening reads only the header: the size is checked before anything is decoded.
        with Image.open(io.BytesIO(content)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise not_an_image
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _too_many_pixels()
            if max(width, height) > MAX_SIDE:
                raise ImageRejected(
                    _("The image is more than %(pixels)s pixels wide or high.")
                    % {"pixels": MAX_SIDE}
                )
            probe.verify()  # the file's structure and checksums
        with Image.open(io.BytesIO(content)) as image:
            image.load()  # every pixel: a truncated or corrupt file fails here
            found = image.format or ""
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels() from exc
    except ImageRejected:
        raise
    except (OSError, SyntaxError, ValueError, TypeError, EOFError) as exc:
        raise not_an_image from exc
    return CheckedImage(content=content, format=found, width=width, height=height)


def _too_many_pixels() -> ImageRejected:
    return ImageRejected(
        _("The image has more than %(megapixels)s megapixels.")
        % {"megapixels": MAX_PIXELS // 1_000_000}
    )


def renditions(checked: CheckedImage) -> tuple[Rendition, Rendition]:
    """Make and store the card and the large size of a checked image; (card, large)."""
    with Image.open(io.BytesIO(checked.content)) as opened:
        opened.seek(0)  # an animated GIF shows its first frame
        picture = _flattened(ImageOps.exif_transpose(opened))
    card = ImageOps.fit(picture, CARD_SIZE, Image.Resampling.LANCZOS)
    large = picture.copy()
    large.thumbnail(LARGE_SIZE, Image.Resampling.LANCZOS)  # never enlarges
    return _store_jpeg(card, "card"), _store_jpeg(large, "large")


def store_original(checked: CheckedImage) -> str:
    """Store the upload to make new sizes from, without its metadata: the media folder (or
    bucket) serves every stored file to whoever has its address."""
    content = _without_metadata(checked)
    suffix = ACCEPTED_FORMATS[checked.format]
    return _store(content_name("items/", content, suffix), content)


def _without_metadata(checked: CheckedImage) -> bytes:
    """The picture saved again from its pixels, upright, in its format (an animated GIF as its
    first frame, which is what the pages show), with nothing but KEPT_INFO."""
    with Image.open(io.BytesIO(checked.content)) as opened:
        opened.seek(0)
        picture = ImageOps.exif_transpose(opened)
    picture.info = {key: value for key, value in picture.info.items() if key in KEPT_INFO}
    options: dict[str, object] = {}
    if "icc_profile" in picture.info:
        options["icc_profile"] = picture.info["icc_profile"]
    if checked.format in ("JPEG", "WEBP"):
        options["quality"] = ORIGINAL_QUALITY
    out = io.BytesIO()
    picture.save(out, checked.format, **options)
    return out.getvalue()


def public_url(name: str) -> str | None:
    """The absolute address the internet reaches a stored image at (Stripe fetches Checkout's
    product images itself): only when SHOP_PUBLIC_URL says where the shop is."""
    if not name or not settings.SHOP_PUBLIC_URL:
        return None
    return urljoin(settings.SHOP_PUBLIC_URL.rstrip("/") + "/", default_storage.url(name))


def _flattened(picture: Image.Image) -> Image.Image:
    """RGB on white: JPEG has no transparency, and a transparent PNG on black looks broken."""
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return picture.convert("RGB")


def _store_jpeg(picture: Image.Image, size: str) -> Rendition:
    out = io.BytesIO()
    # No metadata is copied: a phone photo's location stays out of the shop's pages.
    picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    content = out.getvalue()
    name = _store(content_name("items/", content, f"-{size}.jpg"), content)
    return Rendition(name=name, width=picture.width, height=picture.height)


def _store(name: str, content: bytes) -> str:
    """Write `content` under its hashed `name`, once: the same bytes are already there."""
    if default_storage.exists(name):
        return name
    return default_storage.save(name, ContentFile(content))
