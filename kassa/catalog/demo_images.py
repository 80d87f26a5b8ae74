"""Pictures of the demo catalog's items, drawn with Pillow when the demo is loaded.

Drawn rather than committed: the repository stays small, and a newcomer's `make run` shows a
shop with pictures, made by the same upload path staff use (kassa.catalog.images).
"""

import io
from collections.abc import Callable

from PIL import Image, ImageDraw

SIZE = (960, 720)
Color = tuple[int, int, int]
Drawing = Callable[[ImageDraw.ImageDraw], None]


def _backdrop(top: Color, bottom: Color) -> Image.Image:
    """A soft vertical gradient with a table edge: a studio shot's light, roughly."""
    width, height = SIZE
    picture = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / (height - 1)
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    draw.rectangle([0, int(height * 0.78), width, height], fill=tuple(c - 18 for c in bottom))
    return picture


def _shadow(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int]) -> None:
    draw.ellipse(box, fill=(150, 146, 138))


def _mug(draw: ImageDraw.ImageDraw) -> None:
    _shadow(draw, (300, 560, 660, 610))
    draw.rounded_rectangle((310, 250, 590, 590), radius=36, fill=(47, 93, 122))
    draw.ellipse((310, 228, 590, 276), fill=(36, 74, 98))
    draw.ellipse((326, 236, 574, 268), fill=(226, 222, 212))
    draw.arc((540, 310, 700, 500), start=-80, end=80, fill=(47, 93, 122), width=34)
    draw.rounded_rectangle((335, 300, 360, 540), radius=12, fill=(72, 124, 156))


def _towel(draw: ImageDraw.ImageDraw) -> None:
    _shadow(draw, (230, 560, 730, 610))
    draw.rounded_rectangle((250, 170, 710, 590), radius=14, fill=(236, 229, 214))
    for x in range(290, 700, 70):
        draw.rectangle((x, 170, x + 16, 590), fill=(176, 74, 64))
    draw.rectangle((250, 250, 710, 268), fill=(176, 74, 64))


def _notebook(draw: ImageDraw.ImageDraw) -> None:
    _shadow(draw, (290, 575, 690, 615))
    draw.rounded_rectangle((300, 140, 660, 600), radius=18, fill=(31, 79, 70))
    draw.rectangle((300, 140, 336, 600), fill=(24, 62, 55))
    draw.rectangle((600, 140, 616, 600), fill=(214, 164, 64))
    for y in range(200, 560, 40):
        for x in range(380, 580, 40):
            draw.ellipse((x, y, x + 5, y + 5), fill=(60, 112, 101))


def _pencil(draw: ImageDraw.ImageDraw) -> None:
    _shadow(draw, (170, 470, 790, 520))
    draw.polygon([(170, 430), (700, 270), (716, 322), (186, 482)], fill=(196, 154, 62))
    draw.polygon([(170, 430), (186, 482), (130, 470)], fill=(90, 80, 70))
    draw.polygon([(700, 270), (770, 250), (786, 302), (716, 322)], fill=(160, 160, 160))
    draw.line([(180, 445), (705, 287)], fill=(228, 196, 110), width=8)


def _furoshiki(draw: ImageDraw.ImageDraw) -> None:
    _shadow(draw, (270, 560, 690, 610))
    draw.rounded_rectangle((290, 300, 670, 590), radius=40, fill=(74, 63, 140))
    draw.polygon([(380, 300), (480, 170), (580, 300)], fill=(74, 63, 140))
    draw.ellipse((430, 150, 530, 230), fill=(92, 80, 164))
    for x in range(320, 660, 60):
        for y in range(330, 570, 60):
            draw.ellipse((x, y, x + 22, y + 22), outline=(236, 230, 250), width=4)


def _shirt(colour: Color) -> Drawing:
    def draw_shirt(draw: ImageDraw.ImageDraw) -> None:
        _shadow(draw, (300, 575, 660, 615))
        draw.polygon(
            [
                (390, 170),
                (300, 215),
                (240, 330),
                (310, 360),
                (340, 320),
                (340, 590),
                (620, 590),
                (620, 320),
                (650, 360),
                (720, 330),
                (660, 215),
                (570, 170),
                (530, 205),
                (430, 205),
            ],
            fill=colour,
        )
        draw.arc((425, 160, 535, 230), start=20, end=160, fill=(240, 236, 228), width=10)

    return draw_shirt


PICTURES: dict[str, tuple[Color, Color, Drawing]] = {
    "Ceramic mug": ((244, 239, 230), (222, 214, 200), _mug),
    "Linen tea towel": ((238, 242, 238), (210, 218, 210), _towel),
    "Notebook, A5 dotted": ((246, 241, 226), (224, 214, 190), _notebook),
    "Brass pencil": ((236, 238, 242), (208, 212, 220), _pencil),
    "Furoshiki cloth": ((244, 236, 240), (222, 206, 214), _furoshiki),
    "Organic cotton T-shirt, Indigo": ((236, 240, 246), (210, 218, 230), _shirt((52, 64, 120))),
    "Organic cotton T-shirt, Sand": ((240, 240, 236), (216, 214, 204), _shirt((206, 182, 140))),
}


def picture_png(name: str) -> bytes | None:
    """The demo picture of the item called `name`, as PNG bytes; None for an item without one."""
    if name not in PICTURES:
        return None
    top, bottom, drawing = PICTURES[name]
    picture = _backdrop(top, bottom)
    drawing(ImageDraw.Draw(picture))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()
