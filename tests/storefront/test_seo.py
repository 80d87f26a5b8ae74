"""What search engines read: /sitemap.xml lists products and collections on sale with when they
last changed, /robots.txt points at it and keeps crawlers off private pages."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog import services
from kassa.catalog.models import Collection
from tests.factories import ItemFactory, product_with_variants

pytestmark = pytest.mark.django_db

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def sitemap(client: Client) -> dict[str, str]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer
    return {
        url.findtext("s:loc", namespaces=NS) or "": url.findtext("s:lastmod", namespaces=NS) or ""
        for url in root.findall("s:url", NS)
    }


def test_the_sitemap_lists_products_and_collections_on_sale(client: Client) -> None:
    _tee, _ = product_with_variants("Tee")
    off, _ = product_with_variants("Old tee")
    off.is_active = False
    services.product_save(product=off)
    mug = ItemFactory.create(name="Mug")
    Collection.objects.create(name="Wear", handle="wear")
    Collection.objects.create(name="Hidden", handle="hidden", is_active=False)

    urls = sitemap(client)

    assert set(urls) == {
        "http://testserver/products/tee/",
        "http://testserver/products/mug/",
        "http://testserver/collections/wear/",
    }
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d(T.*)?", lastmod) for lastmod in urls.values())
    assert mug.product is not None


def test_the_sitemap_uses_the_public_address(client: Client, settings: SettingsWrapper) -> None:
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    product_with_variants("Tee")
    assert list(sitemap(client)) == ["https://shop.example.com/products/tee/"]


def test_the_sitemap_costs_the_same_queries_for_many_products(client: Client) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            sitemap(client)
        return len(captured)

    product_with_variants("Tee")
    few = count()
    for n in range(15):
        product_with_variants(f"Tee {n}", options={"Size": ["S", "M", "L"]})
    assert count() == few


def test_robots_txt_points_at_the_sitemap(client: Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Sitemap: http://testserver/sitemap.xml" in response.text
    assert "Disallow: /admin/" in response.text
    assert "Disallow: /orders/" in response.text
