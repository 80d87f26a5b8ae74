"""Catalog content in the shop's languages: names and descriptions of products, collections and
variants in English and Russian, shown in the visitor's language and in the main language where a
translation is missing; the shared pages, the header, the API, search and the search engines'
tags follow; a Russian admin or import writes the main language where nothing else is given."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from kassa.catalog.models import (
    Collection,
    CollectionProduct,
    Item,
    Product,
    set_texts,
    text_in,
)
from kassa.catalog.selectors import item_search
from tests.factories import ItemFactory, product_with_variants
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def tee() -> Product:
    product, _items = product_with_variants("Organic tee", handle="tee")
    set_texts(product, "ru", name="Футболка из хлопка", description="Мягкий хлопок.")
    set_texts(product, "en", description="Soft cotton.")
    product.save()
    summer = Collection.objects.create(name="Summer", name_ru="Лето", handle="summer")
    CollectionProduct.objects.create(collection=summer, product=product)
    return product


def _json_ld(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found
    data: dict[str, object] = json.loads(found.group(1))
    return data


def test_the_product_page_speaks_the_visitors_language(tee: Product) -> None:
    client = Client()
    english = client.get("/products/tee/", headers=EN).text
    russian = client.get("/products/tee/", headers=RU).text

    assert "<h1>Organic tee</h1>" in english
    assert "Soft cotton." in english
    assert "<h1>Футболка из хлопка</h1>" in russian
    assert "Мягкий хлопок." in russian
    assert "Soft cotton." not in russian
    # What search engines read follows the page.
    assert '<meta property="og:title" content="Футболка из хлопка">' in russian
    assert _json_ld(russian)["name"] == "Футболка из хлопка"
    assert _json_ld(russian)["description"] == "Мягкий хлопок."
    assert _json_ld(english)["name"] == "Organic tee"
    # The header's collections, read once per process, are named in each page's language.
    assert ">Лето</a>" in russian
    assert ">Summer</a>" in english
    # The shared copies are per language: English again is still English.
    assert "<h1>Organic tee</h1>" in client.get("/products/tee/", headers=EN).text


def test_a_missing_translation_falls_back_to_the_main_language(tee: Product) -> None:
    Product.objects.filter(pk=tee.pk).update(description_ru=None)
    tee.refresh_from_db()
    tee.save()  # a new catalog revision: the pages are rendered again
    russian = Client().get("/products/tee/", headers=RU).text
    assert "<h1>Футболка из хлопка</h1>" in russian
    assert "Soft cotton." in russian  # no Russian description: the English one


def test_a_russian_description_wins_over_the_main_languages_imported_html(tee: Product) -> None:
    set_texts(tee, "en", body_html="<p>Soft <b>cotton</b>.</p>")
    tee.save()
    assert "<p>Soft <b>cotton</b>.</p>" in Client().get("/products/tee/", headers=EN).text
    russian = Client().get("/products/tee/", headers=RU).text
    assert "Мягкий хлопок." in russian
    assert "<b>cotton</b>" not in russian


def test_catalog_and_collection_pages_in_russian(tee: Product) -> None:
    catalog = Client().get("/", headers=RU).text
    assert "Футболка из хлопка" in catalog
    collection = Client().get("/collections/summer/", headers=RU).text
    assert "<h1>Лето" in collection
    assert "Футболка из хлопка" in collection
    assert "Organic tee" in Client().get("/collections/summer/", headers=EN).text


def test_the_api_answers_in_the_requests_language(tee: Product) -> None:
    client = Client()
    russian = client.get("/api/v1/products/tee", headers=RU).json()
    english = client.get("/api/v1/products/tee", headers=EN).json()
    assert (russian["name"], russian["description"]) == ("Футболка из хлопка", "Мягкий хлопок.")
    assert (english["name"], english["description"]) == ("Organic tee", "Soft cotton.")
    listed = client.get("/api/v1/products", headers=RU).json()
    assert [p["name"] for p in listed["products"]] == ["Футболка из хлопка"]
    collections = client.get("/api/v1/collections", headers=RU).json()
    assert "Лето" in json.dumps(collections, ensure_ascii=False)


def test_search_finds_words_of_either_language_on_either_page(tee: Product) -> None:
    with translation.override("en"):
        mug = ItemFactory.create(name="Mug", name_ru="Кружка", price=Decimal("5.00"))
        assert [i.pk for i in item_search(query="Кружка")] == [mug.pk]
    with translation.override("ru"):
        assert [i.pk for i in item_search(query="Mug")] == [mug.pk]


def test_an_item_made_in_russian_gets_its_name_as_the_main_language_too() -> None:
    with translation.override("ru"):
        item = ItemFactory.create(name="Кружка", price=Decimal("5.00"))
    item.refresh_from_db()
    assert (text_in(item, "name", "en"), text_in(item, "name", "ru")) == ("Кружка", "Кружка")
    # And its product of one variant has both.
    assert item.product is not None
    assert (text_in(item.product, "name", "en"), text_in(item.product, "name", "ru")) == (
        "Кружка",
        "Кружка",
    )
    with translation.override("en"):
        item.name = "Mug"
        item.save()
    item.refresh_from_db()
    assert (item.name, text_in(item, "name", "en"), text_in(item, "name", "ru")) == (
        "Mug",
        "Mug",
        "Кружка",
    )
    assert item.product is not None
    assert (text_in(item.product, "name", "en"), text_in(item.product, "name", "ru")) == (
        "Mug",
        "Кружка",
    )
    # The original column (the catalog's order, the search words) is the main language's.
    with translation.override("ru"):
        item.name = "Большая кружка"
        item.save()
    with translation.override("ru"):
        raw = Item.objects.rewrite(False).filter(pk=item.pk).values_list("name", flat=True).get()
    assert raw == "Mug"


def test_staff_write_both_languages_in_the_admin(tee: Product) -> None:
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests")
    client = Client()
    client.login(username="staff", password="pw-for-tests")
    page = client.get(f"/admin/catalog/product/{tee.pk}/change/", headers=RU).text
    for field in ("name_en", "name_ru", "description_en", "description_ru"):
        assert f'name="{field}"' in page
    collection = client.get("/admin/catalog/collection/add/", headers=RU).text
    assert 'name="name_ru"' in collection
    item = tee.variants.first()
    assert item is not None
    item_page = client.get(f"/admin/catalog/item/{item.pk}/change/", headers=RU).text
    assert 'name="name_ru"' in item_page
    assert 'name="image_alt_ru"' in item_page


def test_the_translated_texts_cost_no_more_queries(tee: Product) -> None:
    counts = []
    for headers in (EN, RU):
        with CaptureQueriesContext(connection) as queries:
            Client().get("/api/v1/products", headers=headers)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_checkout_names_the_line_in_the_customers_language(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("5.00"))
    set_texts(item, "ru", name="Кружка")
    item.save()
    for language, name in (("ru", "Кружка"), ("en", "Mug")):
        response = Client().get(f"/buy/{item.pk}", headers={"Accept-Language": language})
        assert response.status_code == 200
        created = fake_stripe.requests_to("POST", "/v1/checkout/sessions")[-1]
        assert created.params["line_items[0][price_data][product_data][name]"] == name
        assert created.params["locale"] == language


def test_the_catalog_keeps_one_order_in_every_language() -> None:
    # By the main language's names (one index for all), an untranslated product in its place.
    for name, russian in (("Zebra mug", "Кружка-зебра"), ("Apple jam", "Яблочный джем")):
        item = ItemFactory.build(name=name)
        set_texts(item, "ru", name=russian)
        item.save()  # a product of one variant, with the item's names
    ItemFactory.create(name="Mango tea")
    listed = Client().get("/api/v1/products", headers=RU).json()["products"]
    assert [p["name"] for p in listed] == ["Яблочный джем", "Mango tea", "Кружка-зебра"]
    page = Client().get("/", headers=RU).text
    assert page.index("Яблочный джем") < page.index("Mango tea") < page.index("Кружка-зебра")
