"""manage.py export_products FILE.csv: the catalog as Shopify's product CSV."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kassa.catalog import shopify_csv
from kassa.catalog.models import Item, ProductImage


def _image_name(item: Item | ProductImage) -> str:
    # The stored file's name: `import_products --images <the media folder>/items` reads it back.
    return Path(item.image.name or "").name


class Command(BaseCommand):
    help = "Export every product and its variants as Shopify's product CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        with options["file"].open("w", encoding="utf-8", newline="") as out:
            rows = shopify_csv.export(out, image_src=_image_name)
        self.stdout.write(f"Exported {rows} variants to {options['file']}.")
