"""manage.py import_products FILE.csv|FILE.zip [--dry-run] [--currency USD] [--images DIR]:
Shopify's product CSV (alone, or in a ZIP with its pictures) into the catalog, all or nothing."""

import zipfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kassa.catalog import shopify_csv
from kassa.common.money import CURRENCIES


class Command(BaseCommand):
    help = "Import products from Shopify's product CSV (nothing is written if a line has errors)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", type=Path, help="The CSV, or a ZIP of the CSV and the pictures it names."
        )
        parser.add_argument("--dry-run", action="store_true", help="Say what would change only.")
        parser.add_argument("--currency", default="USD", help="For rows without a currency.")
        parser.add_argument("--images", type=Path, help="The folder of the files Image Src names.")

    def handle(self, *args: Any, **options: Any) -> None:
        currency = options["currency"].lower()
        if currency not in CURRENCIES:
            raise CommandError(f"Unknown currency {options['currency']}.")
        folder = options["images"]
        if folder is not None and not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        path: Path = options["file"]
        source = shopify_csv.image_source(folder=folder)
        try:
            if zipfile.is_zipfile(path):
                if folder is not None:
                    raise CommandError("A ZIP holds its own pictures: leave out --images.")
                with path.open("rb") as opened:
                    archive = shopify_csv.read_archive(opened)
                text, source = archive.text, shopify_csv.archive_source(archive.pictures)
            else:
                text = path.read_text(encoding="utf-8-sig")
        except shopify_csv.ArchiveRefused as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            plans = shopify_csv.read(text, currency=currency)
            summary = shopify_csv.apply(plans, source=source, dry_run=options["dry_run"])
        except shopify_csv.ImportFailed as failed:
            for line, message in failed.errors:
                self.stderr.write(f"{options['file']}:{line}: {message}")
            raise CommandError(
                f"{len(failed.errors)} errors: nothing was imported. Fix them and run it again."
            ) from failed
        for change in summary.changes if options["verbosity"] > 1 else []:
            self.stdout.write(change)
        prefix = "Would import (dry run): " if options["dry_run"] else "Imported: "
        self.stdout.write(prefix + str(summary))
