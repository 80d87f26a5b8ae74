"""/api/v1/: the shop's JSON API. Each operation translates HTTP to the services, selectors and
payment flow the pages use, and their answers to the schemas; none decides anything itself."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth import logout
from django.http import Http404, HttpRequest
from django.middleware.csrf import get_token
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise
from ninja import NinjaAPI, Query, Schema
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation
from ninja.responses import Status
from pydantic import Field, field_validator

from kassa.api import errors, webhooks
from kassa.api.csrf import csrf_token
from kassa.api.docs import StaticSwagger
from kassa.api.schemas import (
    AddressList,
    CheckoutSession,
    CollectionOut,
    CsrfToken,
    DiscountIn,
    Error,
    GiftCardIn,
    ItemOut,
    ItemPage,
    LineIn,
    MeOut,
    OrderList,
    OrderOut,
    PaymentIn,
    PaymentIntent,
    ProductOut,
    ProductPage,
    QuantityIn,
    ReturnIn,
    ReturnList,
    ReturnOut,
    SignInIn,
    SignInRequested,
    SignInVerifyIn,
    address_out,
    checkout_session_out,
    collection_out,
    item_out,
    me_out,
    order_out,
    payment_intent_out,
    product_out,
    return_out,
)
from kassa.catalog import selectors as catalog_selectors
from kassa.catalog.models import Item
from kassa.catalog.selectors import ProductFilters
from kassa.common.errors import NotFound, NotSignedIn
from kassa.common.forms import cleaned
from kassa.common.throttle import buy_limited, code_limited, sign_in_limited
from kassa.customers.models import Customer, ReturnRequest
from kassa.customers.personal_data import customer_orders
from kassa.customers.returns import return_request_create
from kassa.customers.sign_in import normalize_email, sign_in_request, sign_in_with_code
from kassa.giftcards import paying as gift_cards
from kassa.giftcards.errors import GiftCardNotUsable
from kassa.orders import selectors as order_selectors
from kassa.orders.cart import (
    cart_add_item,
    order_apply_discount_code,
    order_remove_discount,
    order_set_quantity,
)
from kassa.orders.models import Order
from kassa.orders.tax_mode import stripe_computes_tax
from kassa.payments.errors import CheckoutConflict
from kassa.payments.flow import checkout_buy, checkout_start, payment_intent_start
from kassa.storefront.accounts import complete_sign_in, current_customer, sign_in_link
from kassa.storefront.forms import SearchQueryField, SignInEmailForm
from kassa.storefront.return_pages import return_pages
from kassa.storefront.visitors import order_for_request, visitor_from_request

NO_SUCH_ITEM = gettext_lazy("There is no such item.")
NO_SUCH_ORDER = gettext_lazy("There is no such order.")
NO_SUCH_PRODUCT = gettext_lazy("There is no such product.")
NO_SUCH_COLLECTION = gettext_lazy("There is no such collection.")
NO_CART = gettext_lazy("You have no cart yet: add an item to make one.")
NOT_IN_CART = gettext_lazy("That item is not in your cart.")
NOT_SIGNED_IN = gettext_lazy("Sign in first: ask for a code sent by e-mail.")
CODE_SENT = gettext_lazy("A sign-in code is on its way to that address. It works for 10 minutes.")

DESCRIPTION = """\
The shop's JSON API: the catalog, the visitor's cart and orders, and payment through Stripe
Checkout or the Payment Element, over the same services as the shop's pages.

**Identity** is the visitor's session cookie, as on the pages: the first write makes it.
**CSRF:** every POST, PUT, PATCH and DELETE carries the `X-CSRFToken` header with the token
from `GET /api/v1/csrf` (which sets the `csrftoken` cookie it belongs with).
**Money** is an integer in the currency's minor unit, the currency, and the amount formatted
as the pages show it. **Errors** are `{"error": "...", "code": "..."}` with a fitting status.
"""


class KassaAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # The function's own name ("add_line"), for clients generated from the schema.
        return operation.view_func.__name__

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """Built once per process (and prefix): building it takes half a second of CPU, and
        /api/v1/openapi.json is anyone's to ask for, as often as they like."""
        prefix = path_prefix if path_prefix is not None else self.get_root_path(path_params or {})
        schemas: dict[str, OpenAPISchema] = self.__dict__.setdefault("_kassa_schemas", {})
        if prefix not in schemas:
            schema = super().get_openapi_schema(path_prefix=prefix)
            webhooks.describe(schema)
            schemas[prefix] = schema
        return schemas[prefix]


api = KassaAPI(
    title="Kassa API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    docs=StaticSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    # The docs list the tags in this order: as a purchase goes.
    openapi_extra={
        "tags": [
            {"name": "session", "description": "The visitor's CSRF token."},
            {"name": "catalog", "description": "Items for sale."},
            {
                "name": "products",
                "description": "Products and their variants (each an item), and collections.",
            },
            {"name": "cart", "description": "The visitor's cart: lines and a discount code."},
            {"name": "orders", "description": "The visitor's orders, cart included."},
            {"name": "payment", "description": "Stripe Checkout, the Payment Element, Buy now."},
            {
                "name": "account",
                "description": "Signing in by a code sent by e-mail, the customer's orders, "
                "addresses and returns.",
            },
        ]
    },
)
errors.install(api)

ID = "{id:%s}"
T = TypeVar("T")


def _spec(
    ok: dict[int, Any],
    *statuses: int,
    write: bool = False,
    links: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An operation's responses: `ok`, the error statuses it can answer (every one with the
    Error shape and what it means), for a write the CSRF token and its refusal, and the
    operations its answer leads to (OpenAPI links, which schemathesis follows)."""
    # Any operation can be sent a body too large, and a bug is a 500 anywhere.
    codes = sorted({*statuses, *((403, 422) if write else ()), 413, 500})
    spec: dict[str, Any] = {
        "response": {**ok, **{status: Error for status in codes}},
        "openapi_extra": {
            "responses": {
                status: {"description": errors.STATUS_MEANINGS[status]} for status in codes
            }
        },
    }
    if links:
        for status in ok:
            spec["openapi_extra"]["responses"][status] = {"links": links}
    if write:
        spec["auth"] = csrf_token
    return spec


def _to_order(expression: str) -> dict[str, dict[str, Any]]:
    """Links from an answer naming an order (at `expression`) to what can be done with it."""
    return {
        name: {"operationId": operation, "parameters": {"order_id": expression}}
        for name, operation in (
            ("GetOrder", "get_order"),
            ("StartCheckout", "start_checkout"),
            ("StartPaymentIntent", "start_payment_intent"),
        )
    }


def _to_line(expression: str) -> dict[str, dict[str, Any]]:
    """Links from an answer naming a cart line's item (at `expression`) to that line."""
    return {
        name: {"operationId": operation, "parameters": {"item_id": expression}}
        for name, operation in (("SetQuantity", "set_quantity"), ("RemoveLine", "remove_line"))
    }


TO_ITEM = "$response.body#/items/0/id"


PAYMENT_ERRORS = (404, 409, 429, 502, 503)


def _item(item_id: int) -> Item:
    return _found(lambda: catalog_selectors.item_get(item_id=item_id), NO_SUCH_ITEM)


def _order(request: HttpRequest, order_id: int) -> Order:
    return _found(lambda: order_for_request(request, order_id), NO_SUCH_ORDER)


def _found(get: Callable[[], T], message: StrOrPromise) -> T:
    try:
        return get()
    except Http404 as exc:
        raise NotFound(message) from exc


def _cart(request: HttpRequest) -> Order:
    visitor = visitor_from_request(request, create=False)
    cart = order_selectors.cart_get(visitor=visitor)
    if cart is None:
        raise NotFound(NO_CART)
    return cart


def _as_now(request: HttpRequest, order: Order) -> OrderOut:
    """The order as it is now in the database, lines and all, as its owner sees it."""
    visitor = visitor_from_request(request, create=False)
    return order_out(order_selectors.order_get(visitor=visitor, order_id=order.pk))


# --- The session ------------------------------------------------------------------------------


@api.get("/csrf", **_spec({200: CsrfToken}), tags=["session"])
def get_csrf_token(request: HttpRequest) -> CsrfToken:
    """The visitor's CSRF token; the answer sets the `csrftoken` cookie it belongs with."""
    return CsrfToken(csrf_token=get_token(request))


# --- The catalog ------------------------------------------------------------------------------


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000, description="From 1.")
    page_size: int = Field(20, ge=1, le=100)


@api.get(
    "/items",
    **_spec(
        {200: ItemPage},
        422,
        links={
            "GetItem": {"operationId": "get_item", "parameters": {"item_id": TO_ITEM}},
            "BuyItem": {"operationId": "buy_item", "parameters": {"item_id": TO_ITEM}},
            "AddLine": {"operationId": "add_line", "requestBody": {"item_id": TO_ITEM}},
        },
    ),
    tags=["catalog"],
)
def list_items(request: HttpRequest, query: Query[PageQuery]) -> ItemPage:
    """The catalog, a page at a time, in the pages' order."""
    items = catalog_selectors.item_list()
    start = (query.page - 1) * query.page_size
    return ItemPage(
        items=[item_out(item) for item in items[start : start + query.page_size]],
        count=items.count(),
        page=query.page,
        page_size=query.page_size,
    )


_PRICE_BOUND: dict[str, Any] = {
    "anyOf": [{"type": "number", "minimum": 0, "maximum": 999_999_999}, {"type": "null"}],
    "description": "A price in the currency's major unit, e.g. 12.50.",
}


class ProductQuery(PageQuery):
    collection: str = Field("", max_length=200, description="Only this collection's (its handle).")
    q: str = Field("", max_length=200, description="Words the products' variants must match.")
    option: list[str] = Field(
        [],
        max_length=20,
        description="`Name:Value`, e.g. `Size:M`; several values of one option are alternatives.",
    )
    # Described as a number: pydantic's default for Decimal also allows any string, which the
    # filter would then refuse.
    min_price: Decimal | None = Field(None, ge=0, le=999_999_999, json_schema_extra=_PRICE_BOUND)
    max_price: Decimal | None = Field(None, ge=0, le=999_999_999, json_schema_extra=_PRICE_BOUND)
    in_stock: bool = Field(False, description="Only products with a variant that can be bought.")

    @field_validator("min_price", "max_price")
    @classmethod
    def to_the_thousandth(cls, bound: Decimal | None) -> Decimal | None:
        # Prices have at most three decimals (the three-decimal currencies): finer is rounded.
        return None if bound is None else bound.quantize(Decimal("0.001"))

    @field_validator("q")
    @classmethod
    def searchable(cls, q: str) -> str:
        # As the pages' search box: control characters (NUL, which PostgreSQL refuses in text)
        # dropped, spaces collapsed, cut to its words.
        return str(SearchQueryField().to_python(q))

    @field_validator("option")
    @classmethod
    def printable(cls, options: list[str]) -> list[str]:
        # As the search words: what cannot be printed is dropped (NUL, which PostgreSQL
        # refuses in text, among it), and a filter is cut to an option's longest `Name:Value`.
        return ["".join(ch for ch in value if ch.isprintable())[:201] for value in options]

    def filters(self) -> ProductFilters:
        options: dict[str, list[str]] = {}
        for pair in self.option:
            name, _sep, value = pair.partition(":")
            if name and value:
                options.setdefault(name, []).append(value)
        return ProductFilters(
            options=options,
            min_price=self.min_price,
            max_price=self.max_price,
            in_stock=self.in_stock,
        )


@api.get("/products", **_spec({200: ProductPage}, 404, 422), tags=["products"])
def list_products(request: HttpRequest, query: Query[ProductQuery]) -> ProductPage:
    """Products on sale with their variants on sale, a page at a time, in the catalog's order
    (in the collection's, with `collection`), searched and filtered as the pages are."""
    if query.collection:
        collection = _found(
            lambda: catalog_selectors.collection_get(handle=query.collection), NO_SUCH_COLLECTION
        )
        products = catalog_selectors.collection_products(collection=collection)
    else:
        products = catalog_selectors.product_list()
    if query.q:
        products = products.filter(
            pk__in=catalog_selectors.product_search(query=query.q).values("pk")
        )
    products = catalog_selectors.filtered(products, query.filters())
    start = (query.page - 1) * query.page_size
    page = list(products[start : start + query.page_size])
    variants = catalog_selectors.variants_of(products=page)
    return ProductPage(
        products=[product_out(p, variants[p.pk]) for p in page if variants.get(p.pk)],
        count=products.count(),
        page=query.page,
        page_size=query.page_size,
    )


@api.get("/products/{handle}", **_spec({200: ProductOut}, 404), tags=["products"])
def get_product(request: HttpRequest, handle: str) -> ProductOut:
    product = _found(lambda: catalog_selectors.product_get(handle=handle), NO_SUCH_PRODUCT)
    variants = catalog_selectors.product_variants(product=product)
    if not product.is_active or not variants:  # off sale: gone, as from its page
        raise NotFound(NO_SUCH_PRODUCT)
    return product_out(product, variants)


@api.get("/collections", **_spec({200: list[CollectionOut]}), tags=["products"])
def list_collections(request: HttpRequest) -> list[CollectionOut]:
    """The collections shown, in their order (their products: `/products?collection=`)."""
    return [collection_out(c) for c in catalog_selectors.collection_list()]


@api.get("/collections/{handle}", **_spec({200: CollectionOut}, 404), tags=["products"])
def get_collection(request: HttpRequest, handle: str) -> CollectionOut:
    return collection_out(
        _found(lambda: catalog_selectors.collection_get(handle=handle), NO_SUCH_COLLECTION)
    )


@api.get(f"/items/{ID % 'item_id'}", **_spec({200: ItemOut}, 404), tags=["catalog"])
def get_item(request: HttpRequest, item_id: int) -> ItemOut:
    item = _item(item_id)
    if not item.is_active:  # off sale: gone from the catalog, as from its pages
        raise NotFound(NO_SUCH_ITEM)
    return item_out(item)


@api.post(
    f"/items/{ID % 'item_id'}/buy",
    **_spec(
        {200: CheckoutSession},
        *PAYMENT_ERRORS,
        write=True,
        links=_to_order("$response.body#/order_id"),
    ),
    tags=["payment"],
)
@buy_limited
def buy_item(request: HttpRequest, item_id: int) -> CheckoutSession:
    """Buy one item now: a one-line order and its Stripe Checkout Session (as `GET /buy/<id>`)."""
    started = checkout_buy(
        item=_found(lambda: catalog_selectors.item_to_buy(item_id=item_id), NO_SUCH_ITEM),
        visitor=visitor_from_request(request),
        pages=return_pages(request),
    )
    return checkout_session_out(started)


# --- The cart ---------------------------------------------------------------------------------


@api.get("/cart", **_spec({200: OrderOut}, 404), tags=["cart"])
def get_cart(request: HttpRequest) -> OrderOut:
    """The visitor's cart: their newest open order (404 `not_found` before the first add)."""
    return _as_now(request, _cart(request))


@api.post(
    "/cart/lines",
    **_spec(
        {200: OrderOut, 201: OrderOut},
        400,
        404,
        409,
        write=True,
        links={**_to_order("$response.body#/id"), **_to_line("$request.body#/item_id")},
    ),
    tags=["cart"],
)
def add_line(request: HttpRequest, payload: LineIn) -> Status[OrderOut]:
    """Add an item to the cart (201 when this makes the cart). A cart holds one currency."""
    cart, created = cart_add_item(
        visitor=visitor_from_request(request),
        item=_item(payload.item_id),
        quantity=payload.quantity,
    )
    return Status(201 if created else 200, _as_now(request, cart))


def _line_of(cart: Order, item_id: int) -> int:
    line = cart.lines.filter(item_id=item_id).values_list("pk", flat=True).first()
    if line is None:
        raise NotFound(NOT_IN_CART)
    return line


@api.patch(
    f"/cart/lines/{ID % 'item_id'}",
    **_spec({200: OrderOut}, 400, 404, 409, write=True),
    tags=["cart"],
)
def set_quantity(request: HttpRequest, item_id: int, payload: QuantityIn) -> OrderOut:
    """Set the quantity of the item's line; 0 takes the line out."""
    cart = _cart(request)
    order_set_quantity(order=cart, line_id=_line_of(cart, item_id), quantity=payload.quantity)
    return _as_now(request, cart)


@api.delete(
    f"/cart/lines/{ID % 'item_id'}",
    **_spec({200: OrderOut}, 404, 409, write=True),
    tags=["cart"],
)
def remove_line(request: HttpRequest, item_id: int) -> OrderOut:
    cart = _cart(request)
    order_set_quantity(order=cart, line_id=_line_of(cart, item_id), quantity=0)
    return _as_now(request, cart)


@api.put(
    "/cart/discount",
    **_spec({200: OrderOut}, 400, 404, 409, 429, write=True),
    tags=["cart"],
)
@code_limited
def apply_discount(request: HttpRequest, payload: DiscountIn) -> OrderOut:
    """Apply a discount code (400 `invalid_discount_code` when it is not valid for the cart)."""
    cart = _cart(request)
    order_apply_discount_code(order=cart, code=payload.code)
    return _as_now(request, cart)


@api.delete(
    "/cart/discount",
    **_spec({200: OrderOut}, 404, 409, write=True),
    tags=["cart"],
)
def remove_discount(request: HttpRequest) -> OrderOut:
    cart = _cart(request)
    order_remove_discount(order=cart)
    return _as_now(request, cart)


@api.post(
    "/cart/gift-cards",
    **_spec({200: OrderOut}, 400, 404, 409, 429, write=True),
    tags=["cart"],
)
@code_limited
def apply_gift_card(request: HttpRequest, payload: GiftCardIn) -> OrderOut:
    """Apply a gift card to the cart by its code (400 `invalid_gift_card` when no card of it
    can pay for the cart). Its balance pays the cart up to its total; Stripe charges the rest
    (`amount_due`)."""
    cart = _cart(request)
    if gift_cards.apply_code(order=cart, typed=payload.code) is None:
        raise GiftCardNotUsable(gettext_lazy("This is not a gift card code."))
    return _as_now(request, cart)


@api.delete(
    f"/cart/gift-cards/{ID % 'card_id'}",
    **_spec({200: OrderOut}, 404, 409, write=True),
    tags=["cart"],
)
def remove_gift_card(request: HttpRequest, card_id: int) -> OrderOut:
    """Take a gift card (by the id the cart shows) off the cart."""
    cart = _cart(request)
    if not gift_cards.remove(order=cart, card_id=card_id):
        raise NotFound(gettext_lazy("No such gift card is applied to the cart."))
    return _as_now(request, cart)


# --- Orders and payment -----------------------------------------------------------------------


@api.get("/orders", **_spec({200: OrderList}), tags=["orders"])
def list_orders(request: HttpRequest) -> OrderList:
    """The visitor's orders, newest first, cart included."""
    visitor = visitor_from_request(request, create=False)
    return OrderList(
        orders=[order_out(order) for order in order_selectors.order_list(visitor=visitor)]
    )


@api.get(f"/orders/{ID % 'order_id'}", **_spec({200: OrderOut}, 404), tags=["orders"])
def get_order(request: HttpRequest, order_id: int) -> OrderOut:
    """One of the visitor's orders; anyone else's is a 404, as if it did not exist."""
    return order_out(_order(request, order_id))


def _email(payload: PaymentIn | None) -> str:
    return (payload.email or "") if payload is not None else ""


@api.post(
    f"/orders/{ID % 'order_id'}/checkout",
    **_spec({200: CheckoutSession}, 400, *PAYMENT_ERRORS, write=True),
    tags=["payment"],
)
@buy_limited
def start_checkout(
    request: HttpRequest, order_id: int, payload: PaymentIn | None = None
) -> CheckoutSession:
    """A Stripe Checkout Session for the whole order (as `GET /orders/<id>/buy/`); no earlier
    session or intent of the order can be paid after this. When the order's gift cards pay all
    of it, it is paid at once, without Stripe: `id` is empty and `url` is the success page; a
    guest's order then needs `email` (400 `email_required`)."""
    started = checkout_start(
        order=_order(request, order_id), pages=return_pages(request), email=_email(payload)
    )
    return checkout_session_out(started)


@api.post(
    f"/orders/{ID % 'order_id'}/payment-intent",
    **_spec({200: PaymentIntent}, 400, *PAYMENT_ERRORS, write=True),
    tags=["payment"],
)
@buy_limited
def start_payment_intent(
    request: HttpRequest, order_id: int, payload: PaymentIn | None = None
) -> PaymentIntent:
    """The order's PaymentIntent, for Stripe's Payment Element on your own page. Not with
    SHOP_TAX=stripe (409): the tax depends on an address this API does not take yet. Gift cards
    paying all of the order pay it at once (as `start_checkout`, `email` included)."""
    if stripe_computes_tax():
        raise CheckoutConflict(
            _(
                "With Stripe Tax, pay through Checkout or the shop's card page: "
                "the tax depends on an address this API does not take yet."
            )
        )
    started = payment_intent_start(
        order=_order(request, order_id), pages=return_pages(request), email=_email(payload)
    )
    return payment_intent_out(started, return_url=return_pages(request).success)


# --- The customer's account -------------------------------------------------------------------


def _customer(request: HttpRequest) -> Customer:
    customer = current_customer(request)
    if customer is None:
        raise NotSignedIn(NOT_SIGNED_IN)
    return customer


@api.post(
    "/account/sign-in",
    **_spec({202: SignInRequested}, 400, 429, write=True),
    tags=["account"],
)
def request_sign_in_code(request: HttpRequest, payload: SignInIn) -> Status[SignInRequested]:
    """E-mail a sign-in code (and link) to the address; the answer is the same whether or not
    it has an account (the first sign-in makes it)."""
    email = normalize_email(cleaned(SignInEmailForm({"email": payload.email}))["email"])
    sign_in_limited(request, email=email)
    sign_in_request(email=email, language=get_language() or "", link=sign_in_link)
    return Status(202, SignInRequested(detail=str(CODE_SENT)))


@api.post(
    "/account/sign-in/verify",
    **_spec({200: MeOut}, 400, 429, write=True),
    tags=["account"],
)
def verify_sign_in_code(request: HttpRequest, payload: SignInVerifyIn) -> MeOut:
    """Sign in with the code from the mail (400 `invalid` when wrong, expired or used; after 5
    wrong tries a new code is needed). The session cookie changes: read the new CSRF token."""
    sign_in_limited(request)
    customer = sign_in_with_code(email=payload.email, code=payload.code)
    complete_sign_in(request, customer)
    return me_out(customer)


@api.post("/account/sign-out", **_spec({204: None}, write=True), tags=["account"])
def sign_out(request: HttpRequest) -> Status[None]:
    """End the session."""
    logout(request)
    return Status(204, None)


@api.get("/me", **_spec({200: MeOut}, 401), tags=["account"])
def get_me(request: HttpRequest) -> MeOut:
    """The signed-in customer's account."""
    return me_out(_customer(request))


@api.get("/me/orders", **_spec({200: OrderList}, 401), tags=["account"])
def list_my_orders(request: HttpRequest) -> OrderList:
    """The customer's orders: those placed while signed in, on any device, and every order
    paid with the account's e-mail (also from before the account existed)."""
    _customer(request)
    return list_orders(request)


@api.get("/me/addresses", **_spec({200: AddressList}, 401), tags=["account"])
def list_my_addresses(request: HttpRequest) -> AddressList:
    """The customer's saved addresses (kept from their paid orders, edited on the account
    page), newest first: the first is where the card page starts."""
    kept = _customer(request).addresses.all()
    return AddressList(addresses=[address_out(address.address) for address in kept])


@api.get("/me/returns", **_spec({200: ReturnList}, 401), tags=["account"])
def list_my_returns(request: HttpRequest) -> ReturnList:
    """The return requests of the customer's orders, newest first."""
    customer = _customer(request)
    requests = ReturnRequest.objects.filter(order__in=customer_orders(customer)).prefetch_related(
        "lines__order_line__item"
    )
    return ReturnList(returns=[return_out(r) for r in requests.order_by("-created_at", "-id")])


@api.post(
    f"/orders/{ID % 'order_id'}/returns",
    **_spec({201: ReturnOut}, 400, 404, write=True),
    tags=["account"],
)
def request_return(request: HttpRequest, order_id: int, payload: ReturnIn) -> Status[ReturnOut]:
    """Ask to return lines of a paid order, within SHOP_RETURN_DAYS of payment or delivery
    (400 `return_refused` when too late or more than is left to return)."""
    order = _order(request, order_id)
    if not order.is_paid:
        raise NotFound(NO_SUCH_ORDER)
    quantities: dict[int, int] = {}
    for line in payload.lines:
        quantities[line.line_id] = quantities.get(line.line_id, 0) + line.quantity
    created = return_request_create(
        order_id=order.pk,
        quantities=quantities,
        reason=payload.reason,
        customer=current_customer(request),
    )
    return Status(201, return_out(ReturnRequest.objects.get(pk=created.pk)))
