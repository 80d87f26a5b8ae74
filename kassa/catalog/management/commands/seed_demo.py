"""Load a small demo catalog into an empty shop, so a fresh `make run` has something to sell."""

from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction

from kassa.catalog import images, services
from kassa.catalog.demo_images import picture_png
from kassa.catalog.models import Item

# What each demo picture shows, for people who cannot see it.
DEMO_ALT = {
    "Ceramic mug": "A blue stoneware mug on a light table",
    "Linen tea towel": "A folded cream linen towel with red stripes",
    "Notebook, A5 dotted": "A dark green notebook with a yellow ribbon",
    "Brass pencil": "A brass mechanical pencil lying on a table",
    "Furoshiki cloth": "A purple cloth tied around a parcel, with a circle pattern",
}

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
        if Item.objects.exists():
            self.stdout.write("The catalog already has items: demo data not loaded.")
            return
        for name, description, price, currency in DEMO_ITEMS:
            item = Item(name=name, description=description, price=Decimal(price), currency=currency)
            item.full_clean()
            picture = picture_png(name)
            # Through the same checks and sizes as an upload in the admin.
            checked = images.check_upload(ContentFile(picture)) if picture else None
            item.image_alt = DEMO_ALT.get(name, "") if checked else ""
            services.item_save(item=item, new_image=checked)
        self.stdout.write(f"Loaded {len(DEMO_ITEMS)} demo items.")
