"""The products both shops hold in the comparison: one list, written once as JSON and loaded by
each shop's own loader (bench/django_side.py `peer_catalog`, project/oscar_side.py `load`), so
both show the same names, descriptions and prices."""

import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

COUNT = 10_000
# The product both shops show on their product page and put in the basket: one in the middle
# of the list, neither the newest nor the oldest.
CHOSEN = COUNT // 2
CURRENCY = "usd"

WORDS = [
    "Mug", "Teapot", "Towel", "Notebook", "Pencil", "Apron", "Bowl", "Candle", "Basket", "Plate",
    "Jug", "Vase", "Scarf", "Blanket", "Lamp", "Tray", "Spoon", "Glass", "Cushion", "Kettle",
]  # fmt: skip


@dataclass(frozen=True)
class PeerProduct:
    name: str
    description: str
    price: str  # in CURRENCY, as text: both shops store it as a decimal, exactly


def product(n: int) -> PeerProduct:
    word = WORDS[n % len(WORDS)]
    return PeerProduct(
        name=f"{word} {n:05d}",
        description=f"A {word.lower()} made to last.\nIt comes in a box, with a card.",
        price=str(Decimal("12.34") + n % 100),
    )


def products(count: int = COUNT) -> list[PeerProduct]:
    return [product(n) for n in range(count)]


def write(path: Path, items: list[PeerProduct]) -> None:
    path.write_text(json.dumps([asdict(item) for item in items]))


def read(path: Path) -> list[PeerProduct]:
    return [PeerProduct(**fields) for fields in json.loads(path.read_text())]
