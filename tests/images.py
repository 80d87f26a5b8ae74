"""Image files for the tests, made on the spot: real pictures, and files that only pretend."""

import io
import struct
import zlib

from PIL import Image


def picture(
    fmt: str = "JPEG", size: tuple[int, int] = (1200, 800), color: str = "#3a6ea5"
) -> bytes:
    """A real picture: a colored field with a lighter square, so crops can be told apart."""
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, color)
    image.paste("#f0e6d2", (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose header claims `width` × `height` pixels: a
    decompression bomb's shape (its pixel data, a few rows of zeros, is tiny)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def png_strip(width: int, height: int) -> bytes:
    """A whole, valid greyscale PNG of `width` × `height` black pixels: a few kilobytes for
    millions of rows, each of which a decoder must still go through."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    chunk = row * max(1, 1_000_000 // len(row))
    rows_per_chunk = len(chunk) // len(row)
    data = []
    left = height
    while left > 0:
        n = min(left, rows_per_chunk)
        data.append(compressor.compress(row * n if n < rows_per_chunk else chunk))
        left -= n
    data.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(data))
        + _chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b'<script>alert(1)</script><rect width="10" height="10"/></svg>'
)
