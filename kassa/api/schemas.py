"""The one JSON shape of each resource (Pydantic, so the OpenAPI schema is written from them) and
the presenters that fill them from the shop's own objects: the API answers them, and the pages
answer the same to `Accept: application/json` (kassa.storefront). Money is minor units, the
currency and the amount formatted as the pages show it."""

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from django.urls import reverse
from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, StrictStr

from kassa.catalog.models import Collection, Item, Product
from kassa.common.address import Address, Contact
from kassa.common.converters import ID_MAX_DIGITS
from kassa.common.money import format_amount, from_minor, to_minor
from kassa.customers.models import Customer, ReturnRequest
from kassa.giftcards import paying as gift_cards
from kassa.orders.models import MAX_QUANTITY, Order
from kassa.orders.pricing import Totals, order_totals
from kassa.orders.review import cart_review
from kassa.payments.flow import Started
from kassa.stripe_api.keys import can_pay_in, keypair_for


class Error(Schema):
    """Every error the API answers, whatever its status."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "Your cart is in USD and this item is priced in EUR. "
                    "Pay for the cart first, or empty it, to buy this item.",
                    "code": "currency_mismatch",
                },
                {"error": "There is no such order.", "code": "not_found"},
            ]
        }
    )

    error: str = Field(description="What went wrong, for a person, in the visitor's language.")
    code: str = Field(description="What went wrong, for a program: stable across releases.")


class Money(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": 1234, "currency": "usd", "formatted": "$12.34"}]}
    )

    amount: int = Field(description="In the currency's minor unit (cents; yen for JPY).")
    currency: str = Field(description="ISO 4217, lower case, as Stripe writes it.")
    formatted: str = Field(description="As the pages show it, in the visitor's language.")


def money(minor: int, currency: str) -> Money:
    return Money(
        amount=minor,
        currency=currency,
        formatted=format_amount(from_minor(minor, currency), currency),
    )


class ItemOut(Schema):
    id: int
    name: str
    description: str
    price: Money
    payable: bool = Field(description="Whether payments in the item's currency are set up.")
    url: str = Field(description="The item's page.")
    buy_url: str = Field(
        description="GET it to buy one now through Stripe Checkout (`?quantity=N` for more)."
    )
    add_to_cart_url: str = Field(description="The page's form posts here to add it to the cart.")
    available: int | None = Field(
        None, description="Units that can be bought now; null when the stock is not counted."
    )
    sold_out: bool = Field(False, description="Nothing left: Buy and adding to a cart are refused.")


def item_out(item: Item) -> ItemOut:
    return ItemOut(
        id=item.pk,
        name=item.name,
        description=item.description,
        price=money(to_minor(item.price, item.currency), item.currency),
        payable=can_pay_in(item.currency),
        url=item.get_absolute_url(),
        buy_url=reverse("payments:buy", args=[item.pk]),
        add_to_cart_url=reverse("orders:add", args=[item.pk]),
        available=item.available,
        sold_out=item.sold_out,
    )


class VariantOut(ItemOut):
    options: list[str] = Field(description="The values of the product's options, in order.")
    sku: str


def variant_out(item: Item, product: Product) -> VariantOut:
    values = [item.option1, item.option2, item.option3][: len(product.option_names)]
    return VariantOut(**item_out(item).model_dump(), options=values, sku=item.sku)


class OptionOut(Schema):
    name: str = Field(description="Size, Colour, ...")
    values: list[str] = Field(description="The values its variants on sale have, in order.")


class ProductOut(Schema):
    handle: str
    name: str
    description: str
    url: str = Field(description="The product's page.")
    options: list[OptionOut]
    variants: list[VariantOut] = Field(
        description="Its variants on sale: each is an item, bought and added to a cart by id."
    )
    min_price: Money
    max_price: Money


def product_out(product: Product, variants: list[Item]) -> ProductOut:
    options = []
    for index, name in enumerate(product.option_names):
        values: list[str] = []
        for variant in variants:
            value = [variant.option1, variant.option2, variant.option3][index]
            if value not in values:
                values.append(value)
        options.append(OptionOut(name=name, values=values))
    cheapest = min(variants, key=lambda v: v.price)
    dearest = max(variants, key=lambda v: v.price)
    return ProductOut(
        handle=product.handle,
        name=product.name,
        description=product.description,
        url=product.get_absolute_url(),
        options=options,
        variants=[variant_out(v, product) for v in variants],
        min_price=money(to_minor(cheapest.price, cheapest.currency), cheapest.currency),
        max_price=money(to_minor(dearest.price, dearest.currency), dearest.currency),
    )


class ProductPage(Schema):
    products: list[ProductOut]
    count: int = Field(description="Products matching, on every page.")
    page: int
    page_size: int


class CollectionOut(Schema):
    handle: str
    name: str
    description: str
    url: str = Field(description="The collection's page.")


def collection_out(collection: Collection) -> CollectionOut:
    return CollectionOut(
        handle=collection.handle,
        name=collection.name,
        description=collection.description,
        url=collection.get_absolute_url(),
    )


class ItemPage(Schema):
    items: list[ItemOut]
    count: int = Field(description="Items in the whole catalog.")
    page: int
    page_size: int


class LineOut(Schema):
    id: int
    item_id: int
    name: str
    quantity: int
    unit_price: Money
    amount: Money = Field(description="Unit price × quantity, before discount and tax.")


class PriceChangeOut(Schema):
    item_id: int
    name: str
    was: str = Field(description="The price when it was added, formatted.")
    now: str = Field(description="The price the cart charges now, formatted.")


class ContactOut(Schema):
    email: str
    name: str
    phone: str


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut(email=contact.email, name=contact.name, phone=contact.phone)


class AddressOut(Schema):
    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    state: str
    country: str = Field(description="ISO 3166-1 alpha-2.")


def address_out(address: Address) -> AddressOut:
    return AddressOut(
        name=address.name,
        line1=address.line1,
        line2=address.line2,
        postal_code=address.postal_code,
        city=address.city,
        state=address.state,
        country=address.country,
    )


class GiftCardOut(Schema):
    id: int
    last4: str = Field(description="The card's last four characters; the code is never shown.")
    amount: Money = Field(description="What the card pays of this order.")


class AppliedDiscountOut(Schema):
    name: str
    code: str | None = Field(description="The code typed, or null for an automatic discount.")
    automatic: bool
    free_shipping: bool
    amount: Money = Field(description="What it takes off the order's items.")


def discounts_out(totals: Totals) -> list[AppliedDiscountOut]:
    """Each discount the order gets, with what it takes off: the automatic one, then the code."""
    currency = totals.currency
    applied = []
    if totals.promotion is not None:
        applied.append(
            AppliedDiscountOut(
                name=totals.promotion.name,
                code=None,
                automatic=True,
                free_shipping=totals.promotion.is_free_shipping,
                amount=money(totals.promotion_amount, currency),
            )
        )
    if totals.code is not None:
        applied.append(
            AppliedDiscountOut(
                name=totals.code.name,
                code=totals.code.code or None,
                automatic=False,
                free_shipping=totals.code.is_free_shipping,
                amount=money(totals.discount, currency),
            )
        )
    return applied


class OrderOut(Schema):
    id: int
    status: Order.Status
    currency: str
    lines: list[LineOut]
    item_count: int
    subtotal: Money
    discount: Money
    discount_name: str | None
    discounts: list[AppliedDiscountOut] = Field(
        description="Each discount applied, with its amount: at most one automatic and one code."
    )
    tax: Money
    tax_name: str | None
    tax_inclusive: bool = Field(description="Inclusive tax is part of the prices, not added.")
    total: Money = Field(description="What Stripe charges.")
    created_at: datetime
    url: str = Field(description="The order's page.")
    price_changes: list[PriceChangeOut] = Field(
        description="A cart's items whose price changed since they were added."
    )
    problems: list[str] = Field(
        description="What stops a cart's payment until the customer changes it (sold out, off "
        "sale): a payment begun before then is refused."
    )
    customer: ContactOut | None = Field(description="Who paid, once the order is paid.")
    shipping_address: AddressOut | None = Field(
        description="Where the goods go, once the order is paid (none for digital goods)."
    )
    gift_cards: list[GiftCardOut] = Field(
        default_factory=list, description="Gift cards applied, each with what it pays."
    )
    amount_due: Money | None = Field(
        default=None, description="The total less what gift cards pay: what Stripe charges."
    )


def _gift_cards(order: Order, totals: Totals) -> dict[str, Any]:
    """The gift cards applied to the order, and what is left for Stripe to charge."""
    by_cards = gift_cards.applied(order, [line.line for line in totals.lines])
    total = _tax_and_total(order, totals)["total"]
    paid = sum(part.amount for part in by_cards)
    due = totals.total - paid if not order.tax_computed_by_stripe else None
    return {
        "gift_cards": [
            GiftCardOut(
                id=part.card.pk, last4=part.card.last4, amount=money(part.amount, order.currency)
            )
            for part in by_cards
        ],
        "amount_due": money(due, order.currency) if due is not None else total,
    }


def _tax_and_total(order: Order, totals: Totals) -> dict[str, Any]:
    """The staff's rate as the shop computes it, or (paid with Stripe Tax) Stripe's figures."""
    currency = order.currency
    if order.tax_computed_by_stripe and order.amount_paid is not None:
        return {
            "tax": money(order.tax_amount, currency),
            "tax_name": None,
            "tax_inclusive": order.tax_inclusive,
            "total": money(order.amount_paid, currency),
        }
    return {
        "tax": money(totals.tax, currency),
        "tax_name": order.tax.name if order.tax else None,
        "tax_inclusive": totals.tax_inclusive,
        "total": money(totals.total, currency),
    }


def order_out(order: Order, totals: Totals | None = None) -> OrderOut:
    totals = totals or order_totals(order)
    currency = order.currency
    review = cart_review(order, totals)
    address = order.shipping_address
    return OrderOut(
        id=order.pk,
        status=Order.Status(order.status),
        currency=currency,
        lines=[
            LineOut(
                id=line.line.pk,
                item_id=line.line.item_id,
                name=line.line.item.name,
                quantity=line.line.quantity,
                unit_price=money(line.unit_amount, currency),
                amount=money(line.amount, currency),
            )
            for line in totals.lines
        ],
        item_count=totals.item_count,
        subtotal=money(totals.subtotal, currency),
        discount=money(totals.discount, currency),
        discount_name=order.discount.name if totals.discount and order.discount else None,
        discounts=discounts_out(totals),
        **_tax_and_total(order, totals),
        created_at=order.created_at,
        url=order.get_absolute_url(),
        price_changes=[
            PriceChangeOut(item_id=c.item_id, name=c.name, was=c.was, now=c.now)
            for c in review.price_changes
        ],
        problems=review.problems,
        customer=contact_out(order.contact) if order.is_paid else None,
        shipping_address=address_out(address) if order.is_paid and address else None,
        **_gift_cards(order, totals),
    )


class OrderList(Schema):
    orders: list[OrderOut]


def _whole_number(value: object) -> object:
    """A JSON integer (2, or 2.0, which JSON Schema counts as one), never "2" or true."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Input should be a whole number")
    return value


# After the constraints, which pydantic then writes into the schema as minimum and maximum.
WHOLE_NUMBER = BeforeValidator(_whole_number)
MAX_ID = 10**ID_MAX_DIGITS - 1


class LineIn(Schema):
    item_id: Annotated[int, Field(ge=1, le=MAX_ID, description="The item to add."), WHOLE_NUMBER]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), WHOLE_NUMBER] = 1


class QuantityIn(Schema):
    quantity: Annotated[
        int,
        Field(ge=0, le=MAX_QUANTITY, description="The line's new quantity; 0 takes it out."),
        WHOLE_NUMBER,
    ]


class GiftCardIn(Schema):
    code: StrictStr = Field(max_length=100, description="A gift card's code, in any case.")


class DiscountIn(Schema):
    code: StrictStr = Field(max_length=100, description="A discount code, in any case.")


class CheckoutSession(Schema):
    id: str = Field(description="The Checkout Session's id (cs_…).")
    url: str = Field(description="Stripe Checkout's page: send the customer there.")
    order_id: int


def checkout_session_out(started: Started) -> CheckoutSession:
    """Where to send the customer: the session's id and URL, and the order it pays (the spec's
    `/buy/<id>` answer, and the API's)."""
    return CheckoutSession(id=started.attempt.stripe_id, url=started.url, order_id=started.order.pk)


class PaymentIntent(Schema):
    client_secret: str = Field(description="For Stripe.js's Payment Element.")
    publishable_key: str = Field(description="The Stripe account's publishable key (pk_…).")
    amount: int = Field(description="What Stripe will charge, in minor units.")
    currency: str
    order_id: int
    return_url: str = Field(description="Stripe.js's confirmPayment return_url.")


def payment_intent_out(started: Started, *, return_url: str) -> PaymentIntent:
    """What the Payment Element needs to pay the order's PaymentIntent. Stripe sends the
    customer back to `return_url` with ?payment_intent=<id>&redirect_status=…"""
    keypair = keypair_for(started.order.currency)
    return PaymentIntent(
        client_secret=started.client_secret,
        publishable_key=keypair.publishable if keypair else "",
        amount=started.amount,
        currency=started.order.currency,
        order_id=started.order.pk,
        return_url=return_url,
    )


class CsrfToken(Schema):
    csrf_token: str = Field(description="Send it as X-CSRFToken on POST, PUT, PATCH, DELETE.")


# --- Customer accounts and returns -------------------------------------------------------------


# Checked by the operation, as the page's form checks it (400 `invalid` when it is no address):
# JSON Schema's "email" format and Django's check differ at the edges.
EMAIL = Annotated[StrictStr, Field(max_length=254)]


class SignInIn(Schema):
    email: EMAIL = Field(description="Where the code goes.")


class PaymentIn(Schema):
    email: StrictStr | None = Field(
        None,
        description="The buyer's e-mail, for the order's confirmation. Needed (400 "
        "`email_required` without a valid one, and nothing is written) when the order's gift "
        "cards pay all of it and the shop knows no address for it (a guest's order): no Stripe "
        "page asks for it then. Otherwise Stripe asks, and this is not used.",
    )


class SignInVerifyIn(Schema):
    email: EMAIL
    code: StrictStr = Field(max_length=20, description="The 6 letters and digits of the mail.")


class SignInRequested(Schema):
    detail: str = Field(
        description="The same whether or not the address has an account: a code is on its way."
    )


class MeOut(Schema):
    email: str
    created_at: datetime
    last_sign_in_at: datetime | None


def me_out(customer: Customer) -> MeOut:
    return MeOut(
        email=customer.email,
        created_at=customer.created_at,
        last_sign_in_at=customer.last_sign_in_at,
    )


class AddressList(Schema):
    addresses: list[AddressOut] = Field(description="The customer's saved addresses, newest first.")


class ReturnLineIn(Schema):
    line_id: Annotated[int, Field(ge=1, le=MAX_ID, description="An order line's id."), WHOLE_NUMBER]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY), WHOLE_NUMBER]


class ReturnIn(Schema):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=100)
    reason: StrictStr = Field(min_length=1, max_length=2000)


class ReturnLineOut(Schema):
    line_id: int
    item: str
    quantity: int


# Its own name in the schema: Order.Status is "Status" there already.
ReturnStatus = Literal["requested", "approving", "approved", "rejected"]


class ReturnOut(Schema):
    id: int
    order_id: int
    status: ReturnStatus
    reason: str
    note: str = Field(description="Staff's note with their decision.")
    amount_refunded: int | None = Field(description="Minor units, once approved.")
    created_at: datetime
    decided_at: datetime | None
    lines: list[ReturnLineOut]


def return_out(request: ReturnRequest) -> ReturnOut:
    return ReturnOut(
        id=request.pk,
        order_id=request.order_id,
        status=cast(ReturnStatus, request.status),
        reason=request.reason,
        note=request.staff_note if request.status != ReturnRequest.Status.REQUESTED else "",
        amount_refunded=request.amount_refunded,
        created_at=request.created_at,
        decided_at=request.decided_at,
        lines=[
            ReturnLineOut(
                line_id=line.order_line_id, item=line.order_line.item.name, quantity=line.quantity
            )
            for line in request.lines.select_related("order_line__item")
        ],
    )


class ReturnList(Schema):
    returns: list[ReturnOut]
