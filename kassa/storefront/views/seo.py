"""What search engines read first: /robots.txt and /sitemap.xml (products and collections on sale,
with when they last changed), through django.contrib.sitemaps."""

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.db.models.functions import Greatest
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from kassa.catalog import selectors
from kassa.catalog.models import Collection, Product


class _OnThePublicAddress:
    """Locations on SHOP_PUBLIC_URL when it is set (behind a proxy the request may name another
    host or say http); else on the host and scheme the request came in on."""

    def get_protocol(self, protocol: str | None = None) -> str:
        public: str = settings.SHOP_PUBLIC_URL
        return urlsplit(public).scheme if public else (protocol or "https")

    def get_domain(self, site: Any = None) -> str:
        public: str = settings.SHOP_PUBLIC_URL
        if public:
            return urlsplit(public).netloc
        return str(site.domain)


class ProductSitemap(_OnThePublicAddress, Sitemap[Product]):
    changefreq = "weekly"

    def items(self) -> QuerySet[Product]:
        # A variant's price or stock changing changes the product's page: the latest of both.
        return (
            selectors.product_list()
            .annotate(changed=Greatest("updated_at", Max("variants__updated_at")))
            .order_by("id")
        )

    def lastmod(self, item: Product) -> datetime:
        changed: datetime = item.changed  # type: ignore[attr-defined]
        return changed

    def location(self, item: Product) -> str:
        return item.get_absolute_url()


class CollectionSitemap(_OnThePublicAddress, Sitemap[Collection]):
    changefreq = "weekly"

    def items(self) -> QuerySet[Collection]:
        return selectors.collection_list().order_by("id")

    def lastmod(self, item: Collection) -> datetime:
        return item.updated_at

    def location(self, item: Collection) -> str:
        return item.get_absolute_url()


SITEMAPS = {"products": ProductSitemap, "collections": CollectionSitemap}

# Pages of a visitor's own, payment's JSON and staff's pages: nothing there for a search engine.
ROBOTS = """User-agent: *
Disallow: /admin/
Disallow: /orders/
Disallow: /checkout/
Disallow: /buy/
Disallow: /api/
Disallow: /*/add-to-order
Disallow: /*/pay
Disallow: /*?*q=
"""


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    sitemap = reverse("seo:sitemap")
    base = settings.SHOP_PUBLIC_URL.rstrip("/") or request.build_absolute_uri("/").rstrip("/")
    return HttpResponse(
        f"{ROBOTS}\nSitemap: {base}{sitemap}\n", content_type="text/plain; charset=utf-8"
    )
