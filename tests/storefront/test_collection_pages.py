"""Collections: a page each with the products in the collection's order, search, filters by
option value (on one variant), price and stock, and the header's list of collections."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kassa.catalog.models import Collection, CollectionProduct, Item, Product
from tests.factories import ItemFactory, product_with_variants

pytestmark = pytest.mark.django_db


def cards(page: str) -> list[str]:
    return re.findall(r'<span class="card-name">([^<]+)</span>', page)


def collect(collection: Collection, *products: Product) -> None:
    for position, product in enumerate(products):
        CollectionProduct.objects.create(collection=collection, product=product, position=position)


@pytest.fixture
def wear() -> Collection:
    tee, tee_items = product_with_variants(
        "Tee", options={"Size": ["S", "M"], "Colour": ["Red", "Blue"]}
    )
    # The only M in Blue is sold out; the M in Red costs more.
    for item in tee_items:
        if (item.option1, item.option2) == ("M", "Blue"):
            item.stock = 0
        if (item.option1, item.option2) == ("M", "Red"):
            item.price = Decimal("40.00")
        item.save()
    hoodie, _ = product_with_variants(
        "Hoodie", options={"Colour": ["Blue"], "Size": ["L"]}, price=Decimal("60.00")
    )
    scarf = ItemFactory.create(name="Scarf", price=Decimal("15.00"))
    ItemFactory.create(name="Not in the collection")
    wear = Collection.objects.create(name="Wear", handle="wear", description="Clothes.")
    assert scarf.product is not None
    collect(wear, hoodie, scarf.product, tee)
    return wear


def test_a_collection_lists_its_products_in_its_own_order(client: Client, wear: Collection) -> None:
    page = client.get("/collections/wear/")
    assert page.status_code == 200
    assert cards(page.text) == ["Hoodie", "Scarf", "Tee"]
    assert "<h1>Wear" in page.text
    assert '<link rel="canonical" href="/collections/wear/">' in page.text
    # The header lists it on every page.
    assert '<a href="/collections/wear/">Wear</a>' in client.get("/").text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("option=Colour:Blue", ["Hoodie", "Tee"]),
        ("option=Size:M&option=Colour:Blue&in_stock=1", []),  # the only M Blue is sold out
        ("option=Size:M&option=Colour:Blue", ["Tee"]),
        ("option=Size:M&option=Size:L", ["Hoodie", "Tee"]),
        ("min=30&max=50", ["Tee"]),  # only the M Red is in that range
        ("max=20", ["Scarf", "Tee"]),
        ("q=hoodie", ["Hoodie"]),
        ("option=Colour:Green", []),
    ],
)
def test_filters_find_products_with_one_variant_meeting_them_all(
    client: Client, wear: Collection, query: str, expected: list[str]
) -> None:
    page = client.get(f"/collections/wear/?{query}")
    assert page.status_code == 200
    assert cards(page.text) == expected
    assert '<meta name="robots" content="noindex, follow">' in page.text


def test_the_filters_offer_the_collections_option_values(client: Client, wear: Collection) -> None:
    page = client.get("/collections/wear/").text
    values = re.findall(r'name="option" value="([^"]+)"', page)
    assert values == ["Colour:Blue", "Colour:Red", "Size:L", "Size:M", "Size:S"]


@pytest.mark.parametrize(
    "query",
    [
        "min=abc",
        "max=-1",
        "page=0",
        "page=x",
        "option=" + "&option=".join("a:b" * 1 for _ in range(30)),
    ],
)
def test_malformed_filters_are_404(client: Client, wear: Collection, query: str) -> None:
    assert client.get(f"/collections/wear/?{query}").status_code == 404


def test_unknown_and_hidden_collections_are_404(client: Client, wear: Collection) -> None:
    assert client.get("/collections/nothing/").status_code == 404
    wear.is_active = False
    wear.save()
    assert client.get("/collections/wear/").status_code == 404
    assert 'href="/collections/wear/"' not in client.get("/").text


def test_an_unknown_collection_is_asked_of_the_database_once_until_the_catalog_changes(
    client: Client, wear: Collection
) -> None:
    assert client.get("/collections/new/").status_code == 404
    with CaptureQueriesContext(connection) as again:
        assert client.get("/collections/new/").status_code == 404
    # (What is read every time, the revision and the shop's settings, aside.)
    assert [q["sql"] for q in again.captured_queries if "catalog_collection" in q["sql"]] == []
    collect(Collection.objects.create(name="New", handle="new"), Product.objects.get(name="Tee"))
    assert cards(client.get("/collections/new/").text) == ["Tee"]


def test_off_sale_products_leave_the_collection(client: Client, wear: Collection) -> None:
    Item.objects.filter(name="Scarf").update(is_active=False)
    from kassa.catalog import revision

    revision.bump()
    assert cards(client.get("/collections/wear/").text) == ["Hoodie", "Tee"]
