"""/api/v1/products and /api/v1/collections: products with their options and variants (each an
item the cart takes by id), collections, and the pages' filters."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kassa.catalog.models import Collection, CollectionProduct
from tests.api.test_api import Api
from tests.factories import ItemFactory, product_with_variants

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> Api:
    return Api()


def test_a_product_with_its_options_and_variants(api: Api) -> None:
    _product, items = product_with_variants(
        "Tee", options={"Size": ["S", "M"], "Colour": ["Red"]}, price=Decimal("20.00")
    )
    items[1].price = Decimal("25.50")
    items[1].sku = "TEE-M"
    items[1].save()

    body = api.get("/products/tee").json()

    assert body["handle"] == "tee"
    assert body["url"] == "/products/tee/"
    assert body["options"] == [
        {"name": "Size", "values": ["S", "M"]},
        {"name": "Colour", "values": ["Red"]},
    ]
    assert [(v["id"], v["options"], v["sku"]) for v in body["variants"]] == [
        (items[0].pk, ["S", "Red"], ""),
        (items[1].pk, ["M", "Red"], "TEE-M"),
    ]
    assert body["variants"][1]["buy_url"] == f"/buy/{items[1].pk}/"
    assert body["min_price"]["amount"] == 2000
    assert body["max_price"]["amount"] == 2550


def test_unknown_and_off_sale_products_are_404(api: Api) -> None:
    product, _ = product_with_variants("Tee")
    assert api.get("/products/nothing").json()["code"] == "not_found"
    product.is_active = False
    product.save()
    assert api.get("/products/tee").status_code == 404


def test_products_filtered_and_by_collection(api: Api) -> None:
    tee, _ = product_with_variants("Tee", options={"Size": ["S", "M"]})
    hoodie, _ = product_with_variants("Hoodie", options={"Size": ["L"]}, price=Decimal("60"))
    mug = ItemFactory.create(name="Mug")
    wear = Collection.objects.create(name="Wear", handle="wear")
    CollectionProduct.objects.create(collection=wear, product=hoodie, position=0)
    CollectionProduct.objects.create(collection=wear, product=tee, position=1)

    def names(query: str) -> list[str]:
        response = api.get(f"/products?{query}")
        assert response.status_code == 200, response.json()
        return [p["name"] for p in response.json()["products"]]

    assert names("") == ["Hoodie", "Mug", "Tee"]
    assert names("collection=wear") == ["Hoodie", "Tee"]
    assert names("option=Size:M&option=Size:L") == ["Hoodie", "Tee"]
    assert names("min_price=50") == ["Hoodie"]
    assert names("page_size=1&page=2") == ["Mug"]
    assert api.get("/products?collection=nothing").status_code == 404
    assert api.get("/products?min_price=abc").status_code == 422
    assert mug.product is not None

    collections = api.get("/collections").json()
    assert collections == [
        {"handle": "wear", "name": "Wear", "description": "", "url": "/collections/wear/"}
    ]
    assert api.get("/collections/wear").json()["name"] == "Wear"
    assert api.get("/collections/nothing").status_code == 404


def test_the_product_list_costs_the_same_queries_at_any_number_of_variants(api: Api) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/products").status_code == 200
        return len(captured)

    product_with_variants("Tee", options={"Size": ["S", "M"]})
    few = count()
    product_with_variants(
        "Jeans", options={"Size": [str(n) for n in range(20)], "Leg": ["30", "32"]}
    )
    assert count() == few


def test_the_cart_takes_a_variant_by_its_item_id(api: Api) -> None:
    _product, items = product_with_variants("Tee")
    response = api.send("post", "/cart/lines", {"item_id": items[3].pk, "quantity": 2})
    assert response.status_code in (200, 201), response.json()
    assert response.json()["lines"][0]["item_id"] == items[3].pk


def test_searches_and_filters_with_control_characters_are_clean_answers(api: Api) -> None:
    product_with_variants("Tee")
    assert api.get("/products?q=te%00e").status_code == 200
    # The NUL is dropped, as from the search words.
    assert api.get("/products?option=Size:%00").status_code == 200
    assert api.get("/products?option=Size:S%00").json()["count"] == 1
    assert api.get("/products?option=Size:XL%00").json()["count"] == 0
    assert api.get("/products?q=" + "tee " * 300).status_code in (200, 422)
