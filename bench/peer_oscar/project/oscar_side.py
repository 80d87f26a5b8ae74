"""The peer shop's steps, run in Oscar's virtualenv with peer_shop.settings (bench/peer_oscar/):

    python oscar_side.py load <json> <n>  # the comparison's products in bulk; the n-th one's page
    python oscar_side.py index            # Oscar's search index (Whoosh) of them
    python oscar_side.py queries <id>     # SQL queries of the pages the comparison loads
    python oscar_side.py lines            # basket lines in the database
    python oscar_side.py settings         # what the shop runs with, for the results

Each prints JSON for the bench.
"""

import json
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

django.setup()

from django.conf import settings as django_settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils.text import slugify  # noqa: E402
from oscar.core.loading import get_model  # noqa: E402

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")
Line = get_model("basket", "Line")

# As the bench's wrk sends them: the proxy's HTTPS header, the server's own host.
REQUEST = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}


def load(path: str, chosen: str) -> dict[str, Any]:
    """One product class (stock not tracked, as Kassa's items here), one partner, and a
    stand-alone product with its stock record (price in dollars) for each listed product."""
    listed = json.loads(Path(path).read_text())
    kind = ProductClass.objects.create(name="Goods", track_stock=False, requires_shipping=True)
    partner = Partner.objects.create(name="The shop")
    products = Product.objects.bulk_create(
        (
            Product(
                structure=Product.STANDALONE,
                title=fields["name"],
                slug=slugify(fields["name"]),
                description=fields["description"],
                product_class=kind,
                is_public=True,
            )
            for fields in listed
        ),
        batch_size=2000,
    )
    StockRecord.objects.bulk_create(
        (
            StockRecord(
                product=product,
                partner=partner,
                partner_sku=f"peer-{n}",
                price_currency="USD",
                price=Decimal(fields["price"]),
            )
            for n, (product, fields) in enumerate(zip(products, listed, strict=True))
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    product = products[int(chosen)]
    return {
        "products": Product.objects.count(),
        "product": product.pk,
        "path": product.get_absolute_url(),
    }


def index() -> dict[str, Any]:
    started = time.monotonic()
    call_command("update_index", verbosity=0)
    return {"seconds": round(time.monotonic() - started, 1)}


def _count(path: str, form: dict[str, str] | None = None) -> int:
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        if form is None:
            response = client.get(path, **REQUEST)
        else:
            response = client.post(path, form, **REQUEST)
    expected = 200 if form is None else 302
    if response.status_code != expected:
        raise RuntimeError(f"{path} answered {response.status_code}")
    return len(queries)


def queries(product_id: str) -> dict[str, list[int]]:
    """Each page asked twice by new visitors (the first may fill caches, as after a start)."""
    product = Product.objects.get(pk=int(product_id))
    add = f"/basket/add/{product.pk}/"
    pages = {"catalog": "/catalogue/", "product": product.get_absolute_url()}
    counts = {name: [_count(path), _count(path)] for name, path in pages.items()}
    counts["add"] = [_count(add, {"quantity": "1"}), _count(add, {"quantity": "1"})]
    return counts


def lines() -> dict[str, Any]:
    return {"lines": Line.objects.count()}


def settings() -> dict[str, Any]:
    database = django_settings.DATABASES["default"]
    return {
        "DEBUG": django_settings.DEBUG,
        "cache": django_settings.CACHES["default"]["BACKEND"],
        "sessions": django_settings.SESSION_ENGINE,
        "messages": django_settings.MESSAGE_STORAGE,
        "search": django_settings.HAYSTACK_CONNECTIONS["default"]["ENGINE"],
        "products_per_page": django_settings.OSCAR_PRODUCTS_PER_PAGE,
        "currency": django_settings.OSCAR_DEFAULT_CURRENCY,
        "thumbnails": django_settings.OSCAR_THUMBNAILER,
        "ATOMIC_REQUESTS": database["ATOMIC_REQUESTS"],
        "CONN_MAX_AGE": database["CONN_MAX_AGE"],
        "middleware": django_settings.MIDDLEWARE,
    }


if __name__ == "__main__":
    commands: dict[str, Any] = {
        "load": load,
        "index": index,
        "queries": queries,
        "lines": lines,
        "settings": settings,
    }
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in commands:
        sys.exit(__doc__)
    json.dump(commands[command](*sys.argv[2:]), sys.stdout)
