"""The catalog (a page at a time, and search) and the item pages."""

import hashlib
from math import ceil
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kassa.api.schemas import item_out
from kassa.catalog import revision, selectors
from kassa.catalog.models import Item, Product
from kassa.common.errors import TooMany
from kassa.common.http import json_error, page_or_json, wants_json
from kassa.common.throttle import search_limited
from kassa.orders import discount_rules
from kassa.storefront import shared_pages
from kassa.storefront.forms import CatalogQueryForm, page_query
from kassa.storefront.json import shape
from kassa.storefront.views.products import product_page_context


def catalog(request: HttpRequest) -> HttpResponse:
    """The catalog, a page at a time (`?page=N`), or the items matching a search (`?q=...`).

    Both are shared copies (one per page, language and catalog revision) with the count of
    items kept beside them, so a page costs the same in a catalog of any size. Searches are
    kept in a cache of their own ("searches"): the words people type are endless, and copies of
    them must not push the catalog's and the items' pages out of the processes' memory."""
    form = page_query(CatalogQueryForm, request.GET)
    if not form.is_valid():
        raise Http404(form.errors.get("page", [""])[0])
    number, query = form.cleaned_data["page"], form.cleaned_data["q"]
    if query:
        try:
            search_limited(request)
        except TooMany as refused:
            return _too_many_searches(request, query, refused)
    version = revision.recent()
    if query:
        # The words as the form left them (at most 200 characters), hashed for a short key.
        key, cache = f"search:{hashlib.sha256(query.encode()).hexdigest()}", "searches"
    else:
        key, cache = "catalog", "pages"

    def products() -> QuerySet[Product]:
        # Built only when a copy or a count is made: building the query costs more than
        # serving the copy.
        return selectors.product_search(query=query) if query else selectors.product_list()

    count = shared_pages.kept(
        key=f"{key}:count", version=version, value=lambda: products().count(), cache=cache
    )
    # A search pages through at most SEARCH_RESULTS_LIMIT items, and says when it found more.
    more = count > selectors.SEARCH_RESULTS_LIMIT
    count = min(count, selectors.SEARCH_RESULTS_LIMIT)
    # A number past the last page is the last page, under the last page's key: the numbers
    # anyone may type cannot make more copies than there are pages.
    number = min(number, max(1, ceil(count / settings.SHOP_PAGE_SIZE)))

    def context() -> dict[str, object]:
        listing = selectors.card_page(
            products=products(), number=number, count=count, size=settings.SHOP_PAGE_SIZE
        )
        return {**_listing_context(listing, query), "more_found": more}

    return shared_pages.page(
        request,
        key=f"{key}:{number}",
        version=version,
        template="kassa/catalog.html",
        context=context,
        cache=cache,
    )


def _too_many_searches(request: HttpRequest, query: str, refused: TooMany) -> HttpResponse:
    response = render(
        request,
        "kassa/too_many_searches.html",
        {"search_query": query, "message": refused.message},
        status=429,
    )
    if refused.retry_after is not None:
        response["Retry-After"] = str(refused.retry_after)
    return response


def _listing_context(listing: selectors.ItemPage, query: str) -> dict[str, object]:
    def url(number: int) -> str:
        params = {"q": query} if query else {}
        if number > 1:
            params["page"] = str(number)
        return reverse("catalog:catalog") + (f"?{urlencode(params)}" if params else "")

    return {
        "cards": listing.items,
        "listing": listing,
        "search_query": query,
        "page_links": [
            {"number": n, "url": url(n) if n else "", "current": n == listing.number}
            for n in listing.links
        ],
        "previous_url": url(listing.number - 1) if listing.number > 1 else "",
        "next_url": url(listing.number + 1) if listing.number < listing.num_pages else "",
    }


@page_or_json(not_found=gettext_lazy("There is no such item."))
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    if wants_json(request):
        # Read fresh, never from the shared copies: those are HTML.
        item = selectors.item_get(item_id=item_id)
        if not item.is_active:
            return json_error(_off_sale(item), code="off_sale", status=404)
        return shape(item_out(item))
    # The page shows the sale running now: one ending by its date makes a new copy.
    version = f"{revision.recent()}:{discount_rules.running_now()}"
    on_sale = shared_pages.kept(
        key=f"item:{item_id}:on_sale",
        version=version,
        value=lambda: selectors.item_on_sale(item_id=item_id),
    )
    if not on_sale:
        # Off sale: its page says so (links to it live on in orders and elsewhere).
        item = selectors.item_get(item_id=item_id)
        return render(request, "kassa/item_off_sale.html", {"item": item}, status=404)
    return shared_pages.page(
        request,
        key=f"item:{item_id}",
        version=version,
        template="kassa/product.html",
        context=lambda: _item_as_variant(item_id),
    )


def _item_as_variant(item_id: int) -> dict[str, object]:
    """The item's product page with the item chosen (its canonical address is the product's)."""
    item = selectors.item_get(item_id=item_id)
    product = item.product
    if product is None:  # made by a release before products, not yet given one
        return product_page_context(product=_alone(item), variants=[item], chosen=item)
    variants = selectors.product_variants(product=product)
    if item not in variants or not product.is_active:
        variants = [item]
    gallery = selectors.product_gallery(product=product)
    return product_page_context(product=product, variants=variants, chosen=item, gallery=gallery)


def _alone(item: Item) -> Product:
    return Product(name=item.name, handle="", description=item.description)


def _off_sale(item: Item) -> str:
    return _("%(item)s is no longer available.") % {"item": item.name}
