"""Products at scale: with 10,000 products of 50,000 variants, the catalog, a collection page, a
filtered collection page, a product page of 100 variants, the API's products and the sitemap
each cost the same queries as in a shop of 10 products. Counts, not timings (`make bench`)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kassa.catalog import revision
from kassa.catalog.models import Collection, CollectionProduct, Item, Product
from tests.storefront.test_query_counts import queries

pytestmark = pytest.mark.django_db

SIZES = ["XS", "S", "M", "L", "XL"]


def grow_to(count: int, *, wide: Product) -> None:
    """Products up to `count`, five sizes each, every one in the "all" collection; `wide` gets
    up to 100 variants. In bulk (no signals: the revision is bumped as bulk writers must)."""
    start = Product.objects.count()
    products = Product.objects.bulk_create(
        (
            Product(name=f"Tee {n:05d}", handle=f"tee-{n}", option1_name="Size")
            for n in range(start, count)
        ),
        batch_size=2000,
    )
    Item.objects.bulk_create(
        (
            Item(
                product=product,
                name=f"{product.name} — {size}",
                option1=size,
                position=position,
                price=Decimal(10 + position),
                stock=position,  # the XS of each is sold out
            )
            for product in products
            for position, size in enumerate(SIZES)
        ),
        batch_size=5000,
    )
    collection = Collection.objects.get(handle="all")
    CollectionProduct.objects.bulk_create(
        (CollectionProduct(collection=collection, product=p, position=p.pk) for p in products),
        batch_size=5000,
    )
    have = wide.variants.count()
    target = 10 if count <= 10 else 100
    Item.objects.bulk_create(
        Item(product=wide, name=f"Wide {n}", option1=f"W{n:03d}", position=n, price=Decimal(5))
        for n in range(have, target)
    )
    revision.bump()


def api_queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


PATHS = [
    "/",
    "/?page=3",
    "/collections/all/",
    "/collections/all/?page=2",
    "/collections/all/?option=Size:M&min=11&max=13&in_stock=1",
    "/products/wide/",
    "/products/tee-5/",
]


def test_pages_cost_as_many_queries_at_50000_variants_as_at_10(client: Client) -> None:
    Collection.objects.create(name="All", handle="all")
    wide = Product.objects.create(name="Wide", handle="wide", option1_name="Fit")
    grow_to(10, wide=wide)
    small = {path: queries(client, path) for path in PATHS}
    small_api = api_queries(client, "/api/v1/products?page_size=20")
    small_sitemap = api_queries(client, "/sitemap.xml")

    grow_to(10_000, wide=wide)

    assert Item.objects.count() >= 50_000
    assert wide.variants.count() == 100
    assert {path: queries(client, path) for path in PATHS} == small
    assert api_queries(client, "/api/v1/products?page_size=20") == small_api
    assert api_queries(client, "/sitemap.xml") == small_sitemap
