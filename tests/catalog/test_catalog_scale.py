"""A catalog of 10,000 items costs each page the same queries as one of 50: the catalog's
first and a deep page, a search and an item page. Counts, not timings (`make bench` times)."""

from decimal import Decimal

import pytest
from django.test import Client

from kassa.catalog import revision
from kassa.catalog.models import Item, Product
from tests.storefront.test_query_counts import queries

pytestmark = pytest.mark.django_db

WORDS = ["Mug", "Towel", "Notebook", "Pencil", "Кружка", "Полотенце", "Блокнот", "Карандаш"]


def grow_to(count: int) -> None:
    """Items up to `count`, each a product of one variant, in bulk (no signals: the revision is
    bumped as bulk writers must)."""
    start = Item.objects.count()
    names = [f"{WORDS[n % len(WORDS)]} {n:05d}" for n in range(start, count)]
    products = Product.objects.bulk_create(
        (Product(name=name, handle=f"p-{n}") for n, name in enumerate(names, start=start)),
        batch_size=2000,
    )
    Item.objects.bulk_create(
        (
            Item(
                name=name,
                description="A fine thing, made to last.",
                price=Decimal("12.34"),
                product=product,
            )
            for name, product in zip(names, products, strict=True)
        ),
        batch_size=2000,
    )
    revision.bump()


@pytest.mark.parametrize(
    "path",
    ["/", "/?page=2", "/?page=last", "/?q=mug", "/?q=кружка&page=2", "/item/first/"],
)
def test_pages_cost_as_many_queries_at_10000_items_as_at_50(client: Client, path: str) -> None:
    def resolved() -> str:
        first = Item.objects.order_by("pk").values_list("pk", flat=True).first()
        return path.replace("first", str(first)).replace("last", "9999")

    grow_to(50)
    small = queries(client, resolved())
    grow_to(10_000)
    assert queries(client, resolved()) == small
