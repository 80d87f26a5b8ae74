"""A product's page (with its variant picker), and the collections' pages with their filters."""

import hashlib
from math import ceil
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kassa.catalog import revision, selectors
from kassa.catalog.models import Collection, Item, Product, ProductImage
from kassa.catalog.picker import picker
from kassa.common.http import page_or_json
from kassa.common.money import format_amount, from_minor, to_minor
from kassa.orders import checkout_defaults, discount_rules
from kassa.storefront import shared_pages
from kassa.storefront.forms import CollectionQueryForm, page_query


def product_page_context(
    *,
    product: Product,
    variants: list[Item],
    chosen: Item,
    gallery: list[ProductImage] | None = None,
) -> dict:
    """What product.html shows: the product, the chosen variant, the picker, the gallery, and
    every variant as the page's script needs it to switch without a reload."""
    gallery = gallery or []
    return {
        **_promotion(chosen),
        "product": product,
        "item": chosen,
        "variants": variants,
        "gallery": gallery,
        "gallery_pictures": [
            {
                **_picture(image, image.alt_text(product.name)),
                "thumb": image.card_image.url,
            }
            for image in gallery
            if image.large_image
        ],
        "picture": _shown_picture(product, chosen, gallery),
        "options": picker(product=product, variants=variants, chosen=chosen),
        "variants_json": [_variant_json(product, variant, gallery) for variant in variants],
        "canonical_path": product.get_absolute_url() if product.handle else "",
        # Said before Buy, which refuses it: goods to send in a currency with no shipping rate.
        "shipping_notice": (
            checkout_defaults.no_rate_message(chosen.currency)
            if chosen.requires_shipping and not checkout_defaults.has_rate(chosen.currency)
            else ""
        ),
    }


def _promotion(item: Item) -> dict[str, object]:
    """The automatic discount the item's price is lowered by now, as the page shows it:
    "−10% until Sunday" and the price the cart will charge."""
    promotion = discount_rules.promotion_for(item)
    if promotion is None:
        return {}
    unit = to_minor(item.price, item.currency)
    cut = discount_rules.unit_cut(promotion, item, unit, item.currency)
    return {
        "promotion_label": discount_rules.promotion_label(promotion),
        "promotion_name": promotion.name,
        "sale_price": format_amount(from_minor(unit - cut, item.currency), item.currency),
    }


def _shown_picture(
    product: Product, variant: Item, gallery: list[ProductImage]
) -> dict[str, object] | None:
    """The large picture shown with `variant` chosen: its own image, else the gallery's first."""
    if variant.large_image:
        return _picture(variant, variant.image_alt_text())
    if gallery and gallery[0].large_image:
        return _picture(gallery[0], gallery[0].alt_text(product.name))
    return None


def _picture(source: Item | ProductImage, alt: str) -> dict[str, object]:
    return {
        "url": source.large_image.url,
        "width": source.large_width,
        "height": source.large_height,
        "srcset": (
            f"{source.card_image.url} {source.card_width}w, "
            f"{source.large_image.url} {source.large_width}w"
        ),
        "alt": alt,
    }


def _variant_json(
    product: Product, variant: Item, gallery: list[ProductImage]
) -> dict[str, object]:
    picture = _shown_picture(product, variant, gallery)
    page = product.get_absolute_url() if product.handle else variant.get_absolute_url()
    return {
        "id": variant.pk,
        "options": [variant.option1, variant.option2, variant.option3][: len(product.option_names)],
        "price": format_amount(variant.price, variant.currency),
        "stock": stock_words(variant),
        "sold_out": variant.sold_out,
        "max": variant.low_stock or 99,
        "url": f"{page}?variant={variant.pk}" if product.handle else page,
        "buy_url": reverse("payments:buy", args=[variant.pk]),
        "add_url": reverse("orders:add", args=[variant.pk]),
        "pay_url": reverse("payments:item-pay", args=[variant.pk]),
        "image": picture["url"] if picture else "",
        "srcset": picture["srcset"] if picture else "",
        "alt": picture["alt"] if picture else "",
        "width": picture["width"] if picture else 0,
        "height": picture["height"] if picture else 0,
    }


def stock_words(item: Item) -> str:
    if item.sold_out:
        return _("Sold out")
    if item.low_stock:
        return ngettext("Only %(counter)s left", "Only %(counter)s left", item.low_stock) % {
            "counter": item.low_stock
        }
    return ""


def _variant_asked(request: HttpRequest) -> int | None:
    raw = request.GET.get("variant", "")
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise Http404(_("There is no such variant."))
    return int(raw)


@page_or_json(not_found=gettext_lazy("There is no such product."))
def product_detail(request: HttpRequest, handle: str) -> HttpResponse:
    """/products/<handle>/, the first variant on sale chosen, or `?variant=<id>`."""
    asked = _variant_asked(request)
    # The page shows the sale running now: one ending by its date makes a new copy.
    version = f"{revision.recent()}:{discount_rules.running_now()}"
    state = shared_pages.kept(
        key=f"product:{handle}:state",
        version=version,
        value=lambda: _product_state(handle),
    )
    if state == "missing":
        raise Http404(_("There is no such product."))
    if state == "off_sale":
        product = selectors.product_get(handle=handle)
        return render(request, "kassa/product_off_sale.html", {"product": product}, status=404)

    def context() -> dict[str, object]:
        product = selectors.product_get(handle=handle)
        variants = selectors.product_variants(product=product)
        if asked:
            chosen = next((v for v in variants if v.pk == asked), None)
        else:  # the first that can be bought, else the first
            chosen = next((v for v in variants if not v.sold_out), variants[0])
        if chosen is None:
            raise Http404(_("There is no such variant."))
        gallery = selectors.product_gallery(product=product)
        return product_page_context(
            product=product, variants=variants, chosen=chosen, gallery=gallery
        )

    return shared_pages.page(
        request,
        key=f"product:{handle}:{asked or ''}",
        version=version,
        template="kassa/product.html",
        context=context,
    )


def _product_state(handle: str) -> str:
    product = Product.objects.filter(handle=handle).first()
    if product is None:
        return "missing"
    if not product.is_active or not product.variants.filter(is_active=True).exists():
        return "off_sale"
    return "on_sale"


# What a collection's count is kept as when there is no such collection (a count is never < 0).
_NO_COLLECTION = -1


def collection_detail(request: HttpRequest, handle: str) -> HttpResponse:
    """A collection's products, in its order, a page at a time, searched and filtered."""
    form = page_query(CollectionQueryForm, request.GET)
    if not form.is_valid():
        raise Http404(_("There is no such page."))
    version = revision.recent()
    number, query, filters = form.cleaned_data["page"], form.cleaned_data["q"], form.filters()

    # The collection and the queries are looked up only when a copy or a count is made:
    # building them costs more than serving the copy.
    looked_up: list[Collection] = []  # (a memo: functools.cache costs more to make)

    def collection() -> Collection:
        if not looked_up:
            looked_up.append(selectors.collection_get(handle=handle))
        return looked_up[0]

    def in_collection() -> QuerySet[Product]:
        return selectors.collection_products(collection=collection())

    def products() -> QuerySet[Product]:
        found = in_collection()
        if query:
            found = found.filter(pk__in=selectors.product_search(query=query).values("pk"))
        return selectors.filtered(found, filters)

    def counted() -> int:
        try:
            return products().count()
        except Http404:
            return _NO_COLLECTION

    canonical = form.canonical_query()
    # The query hashed for a short key (most views send none: nothing to hash).
    digest = hashlib.sha256(canonical.encode()).hexdigest() if canonical else ""
    key = f"collection:{handle}:{digest}"
    # One read says both whether the collection is there and how many products match: an
    # unknown handle is kept too, so asking for it again costs no query.
    count = shared_pages.kept(key=f"{key}:count", version=version, value=counted, cache="searches")
    if count == _NO_COLLECTION:
        raise Http404(_("There is no such collection."))
    number = min(number, max(1, ceil(count / settings.SHOP_PAGE_SIZE)))

    def url(page: int) -> str:
        params = form.canonical_params()
        if page > 1:
            params.append(("page", str(page)))
        return collection().get_absolute_url() + (f"?{urlencode(params)}" if params else "")

    def context() -> dict[str, object]:
        listing = selectors.card_page(
            products=products(), number=number, count=count, size=settings.SHOP_PAGE_SIZE
        )
        # Only a copy being made shows them: a page served from its copy does not look them up.
        facets = shared_pages.kept(
            key=f"collection:{handle}:facets",
            version=version,
            value=lambda: selectors.option_facets(products=in_collection()),
        )
        return {
            "collection": collection(),
            "listing": listing,
            "cards": listing.items,
            "collection_query": query,
            "filters": filters,
            "facets": [
                {
                    "name": name,
                    "values": [
                        {"value": v, "checked": v in filters.options.get(name, [])} for v in values
                    ],
                }
                for name, values in facets.items()
            ],
            "page_links": [
                {"number": n, "url": url(n) if n else "", "current": n == listing.number}
                for n in listing.links
            ],
            "previous_url": url(listing.number - 1) if listing.number > 1 else "",
            "next_url": url(listing.number + 1) if listing.number < listing.num_pages else "",
            "canonical_path": url(listing.number)
            if not filters.active and not query
            else collection().get_absolute_url(),
            "noindex": filters.active or bool(query),
        }

    return shared_pages.page(
        request,
        key=f"{key}:{number}",
        version=version,
        template="kassa/collection.html",
        context=context,
        cache="searches" if canonical else "pages",
    )
