"""Stripe's objects as the shop reads them: typed, checked values made from Stripe's JSON (an
API answer or a webhook event's object), so nothing past the transport reads Stripe's dicts.

Every field is read defensively: a signed event's object is Stripe's, but its shape is checked
all the same, and an event may be rendered in another API version than the one we pin.
"""

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kassa.common.address import Address, Contact

# A Stripe id as Stripe writes them; anything else is not an object of Stripe's.
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")


def is_stripe_id(value: str) -> bool:
    """Whether `value` could be an id Stripe made (what a return URL or a form may carry)."""
    return bool(_STRIPE_ID.fullmatch(value))


@dataclass(frozen=True)
class Buyer:
    """Who paid, where the goods go and the shipping chosen, as Stripe collected them (the
    pinned API version puts the buyer under `customer_details`, the address under
    `collected_information.shipping_details`, the chosen rate under `shipping_cost`; the
    versions before put them elsewhere, and are read too)."""

    contact: Contact = field(default_factory=Contact)
    address: Address | None = None
    shipping_rate: str = ""  # Stripe's shr_ id (Checkout)
    shipping_amount: int = 0
    # Our ShippingRate and its name, as the shop put them in a PaymentIntent's metadata (only the
    # secret key writes metadata: the browser cannot).
    shipping_rate_id: int | None = None
    shipping_method: str = ""
    # A business buyer's name and tax id (Checkout's tax id collection).
    company: str = ""
    tax_id: str = ""


@dataclass(frozen=True)
class TaxPart:
    """One rate's share of the tax Stripe Tax computed (`total_details.breakdown.taxes`)."""

    name: str  # "VAT", "Sales tax (IL)"
    rate: str  # the percentage as Stripe writes it, "19.0"
    amount: int
    inclusive: bool


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int
    currency: str  # lower case, as Stripe writes it
    payment_intent: str
    order_id: str  # our metadata
    client_reference_id: str  # for people: what it says of itself, never what pays an order
    amount_shipping: int = 0  # part of amount_total
    buyer: Buyer = field(default_factory=Buyer)
    # What Stripe reports of the amounts: the items before discounts (and before exclusive
    # tax), the discount, and all tax (inclusive tax included).
    amount_subtotal: int = 0
    amount_discount: int = 0
    amount_tax: int = 0
    automatic_tax: bool = False  # Stripe Tax computed the tax
    tax_parts: tuple[TaxPart, ...] = ()  # only when Stripe was asked to expand them
    shipping_subtotal: int = 0  # the shipping before its exclusive tax
    # What the buyer saw and paid in their own currency (Adaptive Pricing), if another.
    presentment_currency: str = ""
    presentment_amount: int | None = None
    # The customer agreed to hear from the shop (consent_collection[promotions]).
    promotions_consent: bool = False


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str  # requires_payment_method, ..., processing, succeeded, canceled
    amount: int
    amount_received: int
    currency: str  # lower case, as Stripe writes it
    client_secret: str
    order_id: str  # our metadata
    buyer: Buyer = field(default_factory=Buyer)
    # The Stripe Tax calculation whose amount the intent asks, as the shop put it in the
    # metadata, and what it computed: the tax in all, the part added on top of the goods (the
    # shipping's own is in `buyer.shipping_amount`), whether the prices held it.
    tax_calculation: str = ""
    tax_amount: int = 0
    tax_added: int = 0
    tax_inclusive: bool = False
    # The shop made the intent for Stripe Tax: it must carry a calculation to be paid in full.
    tax_required: bool = False
    # The customer agreed to hear from the shop (the card page's box).
    promotions_consent: bool = False


class RefundState(StrEnum):
    """Where a refund stands at Stripe. Pending and requires_action may still succeed or fail;
    a succeeded refund can still fail later (the customer's bank sends it back); failed and
    canceled are final: nothing went back to the customer."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (RefundState.FAILED, RefundState.CANCELED)

    @property
    def rank(self) -> int:
        """How far along: a report of an earlier step never undoes a later one."""
        return 2 if self.is_final else 1 if self is RefundState.SUCCEEDED else 0


@dataclass(frozen=True)
class Refund:
    id: str
    state: RefundState
    amount: int
    currency: str = ""
    payment_intent_id: str = ""
    failure_reason: str = ""  # Stripe's code when it failed, e.g. "expired_or_canceled_card"
    order_id: str = ""  # our metadata
    created: int = 0  # Unix seconds

    @property
    def failed(self) -> bool:
        """Nothing went back to the customer, and nothing will."""
        return self.state.is_final

    @property
    def status(self) -> str:
        return str(self.state)


@dataclass(frozen=True)
class SessionPage:
    sessions: list[CheckoutSession]
    has_more: bool


def _order_id(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    return str(metadata.get("order_id") or "") if isinstance(metadata, dict) else ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _digits(value: object) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() and len(text) < 16 else None


def _address(place: dict[str, Any]) -> Address | None:
    """A place Stripe collected (`{"name", "phone", "address": {...}}`), or None without one."""
    address = _dict(place.get("address"))
    found = Address(
        name=_text(place.get("name")),
        line1=_text(address.get("line1")),
        line2=_text(address.get("line2")),
        postal_code=_text(address.get("postal_code")),
        city=_text(address.get("city")),
        state=_text(address.get("state")),
        country=_text(address.get("country")).upper(),
    )
    return None if found.is_empty else found


def _session_shipping(session: dict[str, Any]) -> dict[str, Any]:
    """Where the goods go, in whichever API version the session was rendered: a webhook event
    comes in its endpoint's version. `collected_information.shipping_details` from
    2025-03-31.basil on, `shipping_details` from 2022-08-01 to then, `shipping` before."""
    return (
        _dict(_dict(session.get("collected_information")).get("shipping_details"))
        or _dict(session.get("shipping_details"))
        or _dict(session.get("shipping"))
    )


def _session_shipping_rate(session: dict[str, Any]) -> tuple[str, int]:
    """The chosen shipping rate's id and amount: `shipping_cost` from 2022-08-01 on; before, a
    top-level `shipping_rate` id, its amount in `total_details.amount_shipping`."""
    cost = _dict(session.get("shipping_cost"))
    if cost:
        rate = cost.get("shipping_rate")
        return _text(rate) or _text(_dict(rate).get("id")), int(cost.get("amount_total") or 0)
    rate = session.get("shipping_rate")
    amount = _dict(session.get("total_details")).get("amount_shipping")
    return _text(rate) or _text(_dict(rate).get("id")), int(amount or 0)


def _tax_id(customer: dict[str, Any]) -> str:
    ids = customer.get("tax_ids")
    first = _dict(ids[0]) if isinstance(ids, list) and ids else {}
    return _text(first.get("value"))


def _tax_parts(session: dict[str, Any]) -> tuple[TaxPart, ...]:
    breakdown = _dict(_dict(session.get("total_details")).get("breakdown"))
    parts = []
    for entry in breakdown.get("taxes") or []:
        rate = _dict(_dict(entry).get("rate"))
        name = _text(rate.get("display_name")) or "Tax"
        if _text(rate.get("jurisdiction")):
            name = f"{name} ({_text(rate.get('jurisdiction'))})"
        parts.append(
            TaxPart(
                name=name,
                rate=str(rate.get("percentage") or ""),
                amount=int(_dict(entry).get("amount") or 0),
                inclusive=bool(rate.get("inclusive")),
            )
        )
    return tuple(parts)


def _session_buyer(session: dict[str, Any]) -> Buyer:
    customer = _dict(session.get("customer_details"))
    rate, amount = _session_shipping_rate(session)
    return Buyer(
        contact=Contact(
            email=_text(customer.get("email")),
            name=_text(customer.get("name")),
            phone=_text(customer.get("phone")),
        ),
        address=_address(_session_shipping(session)),
        shipping_rate=rate,
        shipping_amount=amount,
        company=_text(customer.get("business_name")),
        tax_id=_tax_id(customer),
    )


def _intent_buyer(intent: dict[str, Any]) -> Buyer:
    """Who paid through our own page: the e-mail, address and shipping choice the shop sent
    with the PaymentIntent, server-side."""
    shipping = _dict(intent.get("shipping"))
    metadata = _dict(intent.get("metadata"))
    return Buyer(
        contact=Contact(
            # Where the shop put it: `receipt_email` when Stripe sends its receipt, else the
            # metadata (SHOP_STRIPE_RECEIPTS).
            email=_text(intent.get("receipt_email")) or _text(metadata.get("customer_email")),
            name=_text(shipping.get("name")) or _text(metadata.get("customer_name")),
            phone=_text(shipping.get("phone")) or _text(metadata.get("customer_phone")),
        ),
        address=_address(shipping),
        shipping_rate="",
        shipping_amount=_digits(metadata.get("shipping_amount")) or 0,
        shipping_rate_id=_digits(metadata.get("shipping_rate_id")),
        shipping_method=_text(metadata.get("shipping_method")),
        company=_text(metadata.get("buyer_company")),
        tax_id=_text(metadata.get("buyer_tax_id")),
    )


def checkout_session(session: dict[str, Any]) -> CheckoutSession:
    """A Checkout Session from Stripe's JSON (an answer, or a webhook event's object)."""
    payment_intent = session.get("payment_intent") or ""
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id") or ""
    totals = _dict(session.get("total_details"))
    presentment = _dict(session.get("presentment_details"))
    return CheckoutSession(
        id=str(session.get("id") or ""),
        url=session.get("url") or "",
        status=session.get("status") or "",
        payment_status=session.get("payment_status") or "",
        amount_total=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or "").lower(),
        payment_intent=str(payment_intent),
        order_id=_order_id(session),
        client_reference_id=str(session.get("client_reference_id") or ""),
        amount_shipping=int(_dict(session.get("total_details")).get("amount_shipping") or 0),
        buyer=_session_buyer(session),
        amount_subtotal=int(session.get("amount_subtotal") or 0),
        amount_discount=int(totals.get("amount_discount") or 0),
        amount_tax=int(totals.get("amount_tax") or 0),
        automatic_tax=bool(_dict(session.get("automatic_tax")).get("enabled")),
        tax_parts=_tax_parts(session),
        shipping_subtotal=int(_dict(session.get("shipping_cost")).get("amount_subtotal") or 0),
        presentment_currency=str(presentment.get("presentment_currency") or "").lower(),
        presentment_amount=_int_or_none(presentment.get("presentment_amount")),
        promotions_consent=_dict(session.get("consent")).get("promotions") == "opt_in",
    )


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def payment_intent(intent: dict[str, Any]) -> PaymentIntent:
    """A PaymentIntent from Stripe's JSON (an answer, or a webhook event's object)."""
    metadata = _dict(intent.get("metadata"))
    return PaymentIntent(
        id=str(intent.get("id") or ""),
        status=intent.get("status") or "",
        amount=int(intent.get("amount") or 0),
        amount_received=int(intent.get("amount_received") or 0),
        currency=str(intent.get("currency") or "").lower(),
        client_secret=intent.get("client_secret") or "",
        order_id=_order_id(intent),
        buyer=_intent_buyer(intent),
        tax_calculation=_text(metadata.get("tax_calculation")),
        tax_amount=_digits(metadata.get("tax_amount")) or 0,
        tax_added=_digits(metadata.get("tax_added")) or 0,
        tax_inclusive=metadata.get("tax_inclusive") == "true",
        tax_required=metadata.get("tax") == "stripe",
        promotions_consent=metadata.get("promotions_consent") == "opt_in",
    )


def refund_state(status: object) -> RefundState:
    """Stripe's refund status as ours; one we do not know is still waiting on Stripe."""
    try:
        return RefundState(str(status))
    except ValueError:
        return RefundState.PENDING


def refund(obj: dict[str, Any]) -> Refund:
    return Refund(
        id=str(obj["id"]),
        state=refund_state(obj.get("status")),
        amount=int(obj["amount"]),
        currency=_text(obj.get("currency")),
        payment_intent_id=_text(obj.get("payment_intent")),
        failure_reason=_text(obj.get("failure_reason")),
        order_id=_order_id(obj),
        created=_digits(obj.get("created")) or 0,
    )


@dataclass(frozen=True)
class TaxLine:
    """What Stripe Tax computed for one line of a calculation, named by our `reference`."""

    reference: str
    amount: int  # the line's amount as sent (with the tax in it when inclusive)
    amount_tax: int
    inclusive: bool


@dataclass(frozen=True)
class TaxCalculation:
    """A Stripe Tax calculation: the tax for a basket and an address, before anyone pays."""

    id: str
    currency: str
    amount_total: int  # what the customer pays: the lines, the shipping and tax added on top
    tax_exclusive: int  # tax added on top of the prices
    tax_inclusive: int  # tax inside the prices
    shipping_amount: int  # the shipping as sent (with its tax in it when inclusive)
    shipping_tax: int
    parts: tuple[TaxPart, ...] = ()  # per rate (the calculation's tax_breakdown)
    lines: tuple[TaxLine, ...] = ()  # only when the line items were read

    @property
    def tax(self) -> int:
        return self.tax_exclusive + self.tax_inclusive


@dataclass(frozen=True)
class TaxTransaction:
    """A Stripe Tax transaction (a sale recorded for tax reporting) or a reversal of one."""

    id: str
    reference: str
    type: str  # "transaction" or "reversal"


# Stripe's tax types as an invoice names them; others are written out from their code.
_TAX_TYPE_NAMES = {"vat": "VAT", "gst": "GST", "hst": "HST", "pst": "PST", "qst": "QST"}
_TAX_TYPE_NAMES |= {"jct": "JCT", "igst": "IGST", "rst": "RST"}


def _calculation_part(entry: dict[str, Any]) -> TaxPart:
    details = _dict(entry.get("tax_rate_details"))
    kind = _text(details.get("tax_type"))
    name = _TAX_TYPE_NAMES.get(kind) or (kind.replace("_", " ").capitalize() or "Tax")
    where = "-".join(p for p in (_text(details.get("country")), _text(details.get("state"))) if p)
    return TaxPart(
        name=f"{name} ({where})" if where else name,
        rate=_text(details.get("percentage_decimal")),
        amount=int(entry.get("amount") or 0),
        inclusive=bool(entry.get("inclusive")),
    )


def tax_line(entry: dict[str, Any]) -> TaxLine:
    return TaxLine(
        reference=_text(entry.get("reference")),
        amount=int(entry.get("amount") or 0),
        amount_tax=int(entry.get("amount_tax") or 0),
        inclusive=entry.get("tax_behavior") == "inclusive",
    )


def tax_calculation(
    obj: dict[str, Any], lines: list[dict[str, Any]] | None = None
) -> TaxCalculation:
    """A calculation from Stripe's JSON; `lines` its line items, when they were read."""
    shipping = _dict(obj.get("shipping_cost"))
    return TaxCalculation(
        id=_text(obj.get("id")),
        currency=_text(obj.get("currency")).lower(),
        amount_total=int(obj.get("amount_total") or 0),
        tax_exclusive=int(obj.get("tax_amount_exclusive") or 0),
        tax_inclusive=int(obj.get("tax_amount_inclusive") or 0),
        shipping_amount=int(shipping.get("amount") or 0),
        shipping_tax=int(shipping.get("amount_tax") or 0),
        parts=tuple(
            _calculation_part(_dict(entry))
            for entry in obj.get("tax_breakdown") or []
            if int(_dict(entry).get("amount") or 0)
        ),
        lines=tuple(tax_line(_dict(entry)) for entry in lines or []),
    )


def tax_transaction(obj: dict[str, Any]) -> TaxTransaction:
    return TaxTransaction(
        id=_text(obj.get("id")), reference=_text(obj.get("reference")), type=_text(obj.get("type"))
    )
