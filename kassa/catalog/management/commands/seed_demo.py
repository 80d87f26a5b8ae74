"""Load a small demo catalog into an empty shop, so a fresh `make run` has something to sell."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation

from kassa.catalog import images, services, signals
from kassa.catalog.demo_images import picture_png
from kassa.catalog.models import Collection, CollectionProduct, Item, Product, set_texts

# What each demo picture shows, for people who cannot see it.
DEMO_ALT = {
    "Ceramic mug": "A blue stoneware mug on a light table",
    "Linen tea towel": "A folded cream linen towel with red stripes",
    "Notebook, A5 dotted": "A dark green notebook with a yellow ribbon",
    "Brass pencil": "A brass mechanical pencil lying on a table",
    "Furoshiki cloth": "A purple cloth tied around a parcel, with a circle pattern",
    "Organic cotton T-shirt, Indigo": "An indigo T-shirt laid flat",
    "Organic cotton T-shirt, Sand": "A sand-coloured T-shirt laid flat",
}

# A product in several variants: sizes in two colours (no Sand XL; Indigo S sold out).
SHIRT = "Organic cotton T-shirt"
SHIRT_VARIANTS = [
    (size, colour, stock)
    for colour in ("Indigo", "Sand")
    for size, stock in (("S", 0 if colour == "Indigo" else 6), ("M", 12), ("L", 8), ("XL", 3))
    if (size, colour) != ("XL", "Sand")
]

# Collections: (name, handle, description, the demo items' names in it).
DEMO_COLLECTIONS = [
    (
        "Kitchen",
        "kitchen",
        "Things for the table and the sink.",
        ["Ceramic mug", "Linen tea towel", "Furoshiki cloth"],
    ),
    (
        "Desk & wear",
        "desk-and-wear",
        "Paper, pencils and what to wear while using them.",
        ["Notebook, A5 dotted", "Brass pencil", SHIRT],
    ),
]

# The same in Russian (name, description), so a fresh shop shows both languages.
DEMO_RU = {
    "Ceramic mug": (
        "Керамическая кружка",
        "Кружка из каменной керамики на 350 мл, глазурь ручной работы. "
        "Можно мыть в посудомоечной машине.",
    ),
    "Linen tea towel": (
        "Льняное полотенце",
        "Стираный лён, 50 × 70 см. С каждой стиркой всё мягче.",
    ),
    "Notebook, A5 dotted": (
        "Блокнот A5 в точку",
        "160 страниц бумаги 100 г/м², по которой хорошо пишет перьевая ручка.",
    ),
    "Brass pencil": (
        "Латунный карандаш",
        "Механический карандаш из цельной латуни, грифели 0,7 мм.",
    ),
    "Furoshiki cloth": (
        "Платок фуросики",
        "Хлопковый платок для упаковки, 70 см, напечатан в Киото.",
    ),
    SHIRT: (
        "Футболка из органического хлопка",
        "Плотный органический хлопок, прямой крой, сшита в Порту. Предварительно постирана.",
    ),
    "Kitchen": ("Кухня", "Для стола и для мойки."),
    "Desk & wear": ("Стол и одежда", "Бумага, карандаши и то, в чём ими пользоваться."),
}
DEMO_ALT_RU = {
    "Ceramic mug": "Синяя керамическая кружка на светлом столе",
    "Linen tea towel": "Сложенное кремовое льняное полотенце в красную полоску",
    "Notebook, A5 dotted": "Тёмно-зелёный блокнот с жёлтой закладкой",
    "Brass pencil": "Латунный механический карандаш на столе",
    "Furoshiki cloth": "Фиолетовый платок в кружок, завязанный вокруг свёртка",
    "Organic cotton T-shirt, Indigo": "Футболка цвета индиго, разложенная на столе",
    "Organic cotton T-shirt, Sand": "Песочная футболка, разложенная на столе",
}
COLOURS_RU = {"Indigo": "индиго", "Sand": "песочная"}

DEMO_ITEMS = [
    ("Ceramic mug", "A 350 ml stoneware mug, glazed by hand. Dishwasher safe.", "14.50", "usd"),
    (
        "Linen tea towel",
        "Stonewashed linen, 50 × 70 cm. Gets softer with every wash.",
        "9.90",
        "usd",
    ),
    (
        "Notebook, A5 dotted",
        "160 pages of 100 g/m² paper that takes fountain pens well.",
        "12.00",
        "eur",
    ),
    ("Brass pencil", "A solid brass mechanical pencil, 0.7 mm leads.", "34.00", "eur"),
    ("Furoshiki cloth", "A 70 cm cotton wrapping cloth, printed in Kyoto.", "1800", "jpy"),
]


class Command(BaseCommand):
    help = "Add a few demo items if the catalog is empty (never touches a catalog with items)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        # The texts given as `name=` are the main language's, whatever language is active.
        with translation.override(settings.LANGUAGE_CODE):
            self._load()

    def _load(self) -> None:
        if Item.objects.exists():
            self.stdout.write("The catalog already has items: demo data not loaded.")
            return
        for name, description, price, currency in DEMO_ITEMS:
            item = Item(name=name, description=description, price=Decimal(price), currency=currency)
            set_texts(item, "ru", name=DEMO_RU[name][0], description=DEMO_RU[name][1])
            item.full_clean()
            picture = picture_png(name)
            # Through the same checks and sizes as an upload in the admin.
            checked = images.check_upload(ContentFile(picture)) if picture else None
            item.image_alt = DEMO_ALT.get(name, "") if checked else ""
            set_texts(item, "ru", image_alt=DEMO_ALT_RU.get(name, "") if checked else "")
            services.item_save(item=item, new_image=checked)
        self._shirt()
        self._collections()
        signals.demo_catalog_loaded.send(
            sender=Item,
            currencies=set(Item.objects.values_list("currency", flat=True).distinct()),
        )
        self.stdout.write(
            f"Loaded {len(DEMO_ITEMS)} demo items, a product in {len(SHIRT_VARIANTS)} variants "
            f"and {len(DEMO_COLLECTIONS)} collections."
        )

    def _shirt(self) -> None:
        product = Product(
            name=SHIRT,
            handle="organic-cotton-t-shirt",
            description="Heavy organic cotton, cut straight and sewn in Porto. Pre-washed.",
            option1_name="Size",
            option2_name="Colour",
        )
        set_texts(product, "ru", name=DEMO_RU[SHIRT][0], description=DEMO_RU[SHIRT][1])
        product.full_clean()
        services.product_save(product=product)
        pictures = {}
        for colour in ("Indigo", "Sand"):
            picture = picture_png(f"{SHIRT}, {colour}")
            pictures[colour] = images.check_upload(ContentFile(picture)) if picture else None
        for position, (size, colour, stock) in enumerate(SHIRT_VARIANTS):
            item = Item(
                product=product,
                name=f"{SHIRT} — {size} / {colour}",
                option1=size,
                option2=colour,
                position=position,
                sku=f"TEE-{colour[:3].upper()}-{size}",
                price=Decimal("32.00") if size != "XL" else Decimal("36.00"),
                currency="eur",
                stock=stock,
            )
            set_texts(item, "ru", name=f"{DEMO_RU[SHIRT][0]} — {size} / {COLOURS_RU[colour]}")
            item.full_clean()
            item.image_alt = DEMO_ALT[f"{SHIRT}, {colour}"] if pictures[colour] else ""
            alt_ru = DEMO_ALT_RU[f"{SHIRT}, {colour}"] if pictures[colour] else ""
            set_texts(item, "ru", image_alt=alt_ru)
            services.item_save(item=item, new_image=pictures[colour])

    def _collections(self) -> None:
        for position, (name, handle, description, members) in enumerate(DEMO_COLLECTIONS):
            name_ru, description_ru = DEMO_RU[name]
            collection = Collection.objects.create(
                name=name,
                name_ru=name_ru,
                handle=handle,
                description=description,
                description_ru=description_ru,
                position=position,
            )
            for order, member in enumerate(members):
                product = Product.objects.get(name=member)
                CollectionProduct.objects.create(
                    collection=collection, product=product, position=order
                )
