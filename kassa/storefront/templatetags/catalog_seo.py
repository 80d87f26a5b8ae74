"""What search engines and link previews read of the catalog's pages: canonical links, Open
Graph, schema.org Product JSON-LD; and the header's list of collections."""

import json

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from kassa.catalog import revision, selectors
from kassa.catalog.models import Collection, Item, Product, ProductImage
from kassa.catalog.shopify_csv import sanitise_body
from kassa.common.money import from_minor, to_minor

register = template.Library()

# JSON inside <script> must not hold "</script>" or "<!--": these escapes are still JSON.
_SCRIPT_SAFE = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def absolute(path: str) -> str:
    """`path` on the shop's public address when SHOP_PUBLIC_URL says it; else the path (shared
    pages are rendered without a request, so the host it came in on is not known)."""
    return settings.SHOP_PUBLIC_URL.rstrip("/") + path if settings.SHOP_PUBLIC_URL else path


def json_ld(data: object) -> SafeString:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


def _price(item: Item) -> str:
    # The amount as its currency writes it: 12.50, 1800, 1.250.
    return str(from_minor(to_minor(item.price, item.currency), item.currency))


def product_data(
    product: Product, variants: list[Item], gallery: list[ProductImage] | None = None
) -> dict[str, object]:
    """schema.org Product with one Offer per variant (price, currency, availability, SKU)."""
    url = absolute(product.get_absolute_url())
    offers = [
        {
            "@type": "Offer",
            "url": f"{url}?variant={variant.pk}" if len(variants) > 1 else url,
            "price": _price(variant),
            "priceCurrency": variant.currency.upper(),
            "availability": "https://schema.org/"
            + ("OutOfStock" if variant.sold_out else "InStock"),
            **({"sku": variant.sku} if variant.sku else {}),
            **({"name": " / ".join(variant.option_values)} if variant.option_values else {}),
        }
        for variant in variants
    ]
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "url": url,
        "offers": offers,
    }
    if product.description:
        data["description"] = product.description
    images = [absolute(g.large_image.url) for g in gallery or [] if g.large_image]
    images += [absolute(v.large_image.url) for v in variants if v.large_image]
    if images:
        data["image"] = list(dict.fromkeys(images))
    return data


@register.simple_tag
def product_meta(
    product: Product,
    chosen: Item,
    variants: list[Item],
    gallery: list[ProductImage] | None = None,
) -> SafeString:
    """The product page's head: its canonical address (every variant's URL names the product's),
    Open Graph and JSON-LD. A product made on the fly for an item without one says nothing."""
    if not product.handle:
        return mark_safe("")
    url = absolute(product.get_absolute_url())
    description = " ".join(product.description.split())[:300]
    image = (
        chosen.large_image
        or next((g.large_image for g in gallery or [] if g.large_image), None)
        or next((v.large_image for v in variants if v.large_image), None)
    )
    tags = [
        ('<link rel="canonical" href="{}">', url),
        ('<meta property="og:type" content="{}">', "product"),
        ('<meta property="og:title" content="{}">', product.name),
        ('<meta property="og:url" content="{}">', url),
    ]
    if description:
        tags.append(('<meta name="description" content="{}">', description))
        tags.append(('<meta property="og:description" content="{}">', description))
    if image:
        tags.append(('<meta property="og:image" content="{}">', absolute(image.url)))
    head = format_html_join("\n", "{}", ((format_html(t, v),) for t, v in tags))
    return format_html("{}\n{}", head, json_ld(product_data(product, variants, gallery)))


@register.filter
def sanitised_html(body: str) -> SafeString:
    """A product's HTML body, sanitised again as it is shown (it was on import): formatting
    and http(s) links only."""
    return mark_safe(sanitise_body(body))  # noqa: S308 - nh3 leaves nothing that runs


@register.simple_tag
def absolute_url(path: str) -> str:
    """`path` on the shop's public address, for tags read off the site (Open Graph)."""
    return absolute(path)


@register.simple_tag
def canonical(path: str) -> SafeString:
    return format_html('<link rel="canonical" href="{}">', absolute(path))


# (catalog revision, the header's collections): replaced whole, so threads never see half of it.
# Kept in the process rather than a cache: every page shows it, and it is a few rows. The rows,
# not their names: each page reads the names in its own language.
_nav: tuple[str, list[Collection]] = ("", [])


@register.inclusion_tag("kassa/_collections_nav.html")
def collections_nav() -> dict[str, object]:
    """The collections shown in the header, read once per catalog revision and process."""
    global _nav
    version = revision.recent()
    if _nav[0] != version or not version:
        _nav = (version, list(selectors.collection_list()))
    return {"collections": [(c.name, c.get_absolute_url()) for c in _nav[1]]}
