"""The Stripe API calls the shop makes, answered as Stripe answers them (test mode), on the
stand-in's own rows: Checkout Sessions, PaymentIntents, refunds, coupons, tax and shipping rates."""

import re
import secrets
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction

from kassa.demo_stripe import events, tax
from kassa.demo_stripe.store import StripeError, find, load, new_id, save

# Stripe takes amounts in these currencies in thousandths, and only in tens of them.
_TENS_ONLY = {"bhd", "jod", "kwd", "omr", "tnd"}


def _to_chargeable(exact: Decimal, currency: str) -> int:
    step = Decimal(10 if currency in _TENS_ONLY else 1)
    return int((exact / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


def _require(body: dict[str, Any], name: str) -> Any:
    if body.get(name) in (None, ""):
        raise StripeError(400, f"Missing required param: {name}.", param=name)
    return body[name]


# --- Checkout Sessions ------------------------------------------------------------------------
def create_checkout_session(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    if _require(body, "mode") != "payment":
        raise StripeError(400, "The demo knows only mode=payment.", param="mode")
    _require(body, "success_url")
    line_items = _require(body, "line_items")
    currencies = {line["price_data"]["currency"] for line in line_items}
    if len(currencies) != 1:
        raise StripeError(400, "All line items must share one currency.", param="line_items")
    currency = currencies.pop()
    options = _shipping_options(body, currency)
    totals = price(body, line_items, currency, shipping=options[0] if options else None)
    session_id = new_id("cs")
    expires_at = int(body.get("expires_at") or time.time() + 24 * 3600)
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "payment_intent": None,
        "created": int(time.time()),
        "livemode": False,
        # The customer's browser reaches the shop where the shop sends it back to.
        "url": f"{_origin(body['success_url'])}/demo-stripe/checkout/{session_id}/",
        "currency": currency,
        **totals,
        "shipping_options": options,
        "customer_email": body.get("customer_email"),
        "shipping_address_collection": body.get("shipping_address_collection"),
        "phone_number_collection": body.get("phone_number_collection"),
        "line_items_sent": line_items,
        "discounts_sent": body.get("discounts", []),
        "client_reference_id": body.get("client_reference_id"),
        "metadata": body.get("metadata", {}),
        "success_url": body["success_url"],
        "cancel_url": body.get("cancel_url"),
        "expires_at": expires_at,
        "customer_details": None,
        "collected_information": None,
    }
    return save("checkout.session", session)


def _origin(url: str) -> str:
    match = re.match(r"^(https?://[^/?#]+)", url)
    if not match:
        raise StripeError(400, "Not a valid URL.", param="success_url")
    return match.group(1)


def _shipping_options(body: dict[str, Any], currency: str) -> list[dict[str, Any]]:
    options = []
    for index, option in enumerate(body.get("shipping_options", [])):
        try:
            rate = load("shipping_rate", option.get("shipping_rate", ""))
        except StripeError:
            raise StripeError(
                400, "No such shipping rate.", param=f"shipping_options[{index}]"
            ) from None
        if rate["fixed_amount"]["currency"] != currency:
            raise StripeError(400, "The shipping rate's currency does not match.")
        options.append(
            {"shipping_amount": rate["fixed_amount"]["amount"], "shipping_rate": rate["id"]}
        )
    if len(options) > 5:
        raise StripeError(400, "At most 5 shipping options.", param="shipping_options")
    return options


def price(
    body: dict[str, Any],
    line_items: list[dict[str, Any]],
    currency: str,
    *,
    shipping: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What Checkout charges: the discount off first, then tax per line on what is left, then
    the chosen shipping rate (neither discounted nor taxed)."""
    amounts = []
    for index, line in enumerate(line_items):
        unit_amount = str(line["price_data"].get("unit_amount", ""))
        quantity = str(line.get("quantity", "1"))
        if not unit_amount.isdigit() or not quantity.isdigit() or int(quantity) < 1:
            raise StripeError(400, "Invalid integer.", param=f"line_items[{index}]")
        amounts.append(int(unit_amount) * int(quantity))
    subtotal = sum(amounts)
    discount = 0
    for entry in body.get("discounts", []):
        coupon = load("coupon", entry.get("coupon", ""))
        if coupon["percent_off"] is not None:
            exact = Decimal(subtotal) * Decimal(coupon["percent_off"]) / 100
            discount = _to_chargeable(exact, currency)
        else:
            discount = int(coupon["amount_off"])
    discount = min(discount, subtotal)
    shares = [divmod(discount * amount, subtotal) if subtotal else (0, 0) for amount in amounts]
    cuts = [quotient for quotient, _ in shares]
    leftover = discount - sum(cuts)
    for index in sorted(range(len(shares)), key=lambda i: (-shares[i][1], i))[:leftover]:
        cuts[index] += 1
    exclusive_tax = inclusive_tax = 0
    for line, amount, cut in zip(line_items, amounts, cuts, strict=True):
        for rate_id in line.get("tax_rates", []):
            rate = load("tax_rate", rate_id)
            percentage = Decimal(rate["percentage"])
            net = Decimal(amount - cut)
            divisor = (100 + percentage) if rate["inclusive"] else Decimal(100)
            part = _to_chargeable(net * percentage / divisor, currency)
            if rate["inclusive"]:
                inclusive_tax += part
            else:
                exclusive_tax += part
    shipping_amount = int(shipping["shipping_amount"]) if shipping else 0
    return {
        "amount_subtotal": subtotal,
        "amount_total": subtotal - discount + exclusive_tax + shipping_amount,
        "total_details": {
            "amount_discount": discount,
            "amount_tax": exclusive_tax + inclusive_tax,
            "amount_shipping": shipping_amount,
        },
        "shipping_cost": (
            {
                "amount_subtotal": shipping_amount,
                "amount_tax": 0,
                "amount_total": shipping_amount,
                "shipping_rate": shipping["shipping_rate"],
            }
            if shipping
            else None
        ),
    }


def get_checkout_session(body: dict[str, Any], params: dict[str, str], id: str) -> dict[str, Any]:
    return load("checkout.session", id)


def list_checkout_sessions(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    wanted = params.get("payment_intent")
    since = int(params.get("created[gte]") or 0)
    until = int(params.get("created[lte]") or 2**62)
    found = [
        session
        for session in find("checkout.session")
        if (wanted is None or session.get("payment_intent") == wanted)
        and since <= session["created"] <= until
    ]
    found.sort(key=lambda session: (-session["created"], session["id"]))
    after = params.get("starting_after")
    if after:
        ids = [session["id"] for session in found]
        found = found[ids.index(after) + 1 :] if after in ids else []
    limit = int(params.get("limit") or 10)
    return {
        "object": "list",
        "url": "/v1/checkout/sessions",
        "has_more": len(found) > limit,
        "data": found[:limit],
    }


def expire_checkout_session(
    body: dict[str, Any], params: dict[str, str], id: str
) -> dict[str, Any]:
    session = load("checkout.session", id, lock=True)
    if session["status"] != "open":
        raise StripeError(400, "Only open Checkout Sessions can be expired.")
    session.update(status="expired", url=None)
    return save("checkout.session", session)


# --- Coupons, shipping and tax rates ----------------------------------------------------------
def create_coupon(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    percent_off, amount_off = body.get("percent_off"), body.get("amount_off")
    if (percent_off is None) == (amount_off is None):
        raise StripeError(400, "Give exactly one of percent_off and amount_off.")
    coupon = {
        "id": secrets.token_hex(6),
        "object": "coupon",
        "name": body.get("name"),
        "duration": body.get("duration", "once"),
        "percent_off": percent_off,
        "amount_off": int(amount_off) if amount_off is not None else None,
        "currency": body.get("currency"),
        "valid": True,
    }
    return save("coupon", coupon)


def create_shipping_rate(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    _require(body, "display_name")
    fixed = _require(body, "fixed_amount")
    amount = str(fixed.get("amount", ""))
    if not amount.isdigit() or not fixed.get("currency"):
        raise StripeError(400, "Invalid fixed_amount.", param="fixed_amount")
    rate = {
        "id": new_id("shr"),
        "object": "shipping_rate",
        "active": True,
        "display_name": body["display_name"],
        "type": "fixed_amount",
        "fixed_amount": {"amount": int(amount), "currency": fixed["currency"]},
        "delivery_estimate": body.get("delivery_estimate"),
        "metadata": body.get("metadata", {}),
    }
    return save("shipping_rate", rate)


def create_tax_rate(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    _require(body, "display_name")
    tax_rate = {
        "id": new_id("txr"),
        "object": "tax_rate",
        "display_name": body["display_name"],
        "percentage": _require(body, "percentage"),
        "inclusive": body.get("inclusive") == "true",
        "active": True,
    }
    return save("tax_rate", tax_rate)


# --- PaymentIntents, charges and refunds ------------------------------------------------------
def new_intent(*, amount: int, currency: str, metadata: dict[str, Any]) -> dict[str, Any]:
    intent_id = new_id("pi")
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": 0,
        "currency": currency,
        "status": "requires_payment_method",
        "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
        "metadata": metadata,
        "latest_charge": None,
        "livemode": False,
        "receipt_email": None,
        "shipping": None,
        "created": int(time.time()),
        "last_payment_error": None,
    }


def create_payment_intent(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    amount, currency = str(_require(body, "amount")), _require(body, "currency")
    if not amount.isdigit() or int(amount) < 1:
        raise StripeError(400, "Invalid positive integer.", param="amount")
    intent = new_intent(amount=int(amount), currency=currency, metadata={})
    _intent_details(intent, body)
    return save("payment_intent", intent)


def get_payment_intent(body: dict[str, Any], params: dict[str, str], id: str) -> dict[str, Any]:
    return load("payment_intent", id)


def update_payment_intent(body: dict[str, Any], params: dict[str, str], id: str) -> dict[str, Any]:
    intent = load("payment_intent", id, lock=True)
    if intent["status"] in ("succeeded", "canceled", "processing"):
        raise StripeError(400, f"This PaymentIntent's status is {intent['status']}.")
    if "amount" in body:
        intent["amount"] = int(body["amount"])
    _intent_details(intent, body)
    return save("payment_intent", intent)


def _intent_details(intent: dict[str, Any], body: dict[str, Any]) -> None:
    if "receipt_email" in body:
        intent["receipt_email"] = body["receipt_email"] or None
    if "shipping" in body:
        shipping = body["shipping"] or None
        if shipping is not None:
            address = shipping.get("address") or {}
            shipping = {
                "name": shipping.get("name"),
                "phone": shipping.get("phone") or None,
                "address": {
                    key: address.get(key) or None
                    for key in ("line1", "line2", "postal_code", "city", "state", "country")
                },
                "carrier": None,
                "tracking_number": None,
            }
        intent["shipping"] = shipping
    for key, value in (body.get("metadata") or {}).items():
        if value == "":
            intent["metadata"].pop(key, None)
        else:
            intent["metadata"][key] = value


def cancel_payment_intent(body: dict[str, Any], params: dict[str, str], id: str) -> dict[str, Any]:
    intent = load("payment_intent", id, lock=True)
    if intent["status"] in ("succeeded", "canceled"):
        raise StripeError(400, f"This PaymentIntent's status is {intent['status']}.")
    intent["status"] = "canceled"
    return save("payment_intent", intent)


def succeed_intent(intent: dict[str, Any]) -> dict[str, Any]:
    """The intent paid: a charge for its amount. Saved by the caller."""
    charge = {
        "id": new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_refunded": 0,
        "refunded": False,
        "currency": intent["currency"],
        "payment_intent": intent["id"],
        "metadata": dict(intent.get("metadata") or {}),
        "livemode": False,
    }
    save("charge", charge)
    intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"])
    return intent


def create_refund(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    intent = load("payment_intent", _require(body, "payment_intent"))
    if intent["status"] != "succeeded":
        raise StripeError(400, "This PaymentIntent has not succeeded.")
    charge = load("charge", intent["latest_charge"], lock=True)
    remaining = charge["amount"] - charge["amount_refunded"]
    amount = int(body.get("amount", remaining))
    if remaining <= 0 or not 0 < amount <= remaining:
        raise StripeError(400, "The charge has already been refunded.", param="amount")
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    save("charge", charge)
    refund = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "currency": charge["currency"],
        "status": "succeeded",
        "payment_intent": intent["id"],
        "charge": charge["id"],
        "metadata": body.get("metadata", {}),
    }
    save("refund", refund)
    # As Stripe does, and later than the answer: the shop's refund may still hold its rows.
    events.send_later("charge.refunded", charge)
    return refund


def list_refunds(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """A payment's refunds, newest first: what the shop reads on `charge.refunded`."""
    wanted = params.get("payment_intent")
    found = [r for r in find("refund") if wanted is None or r.get("payment_intent") == wanted]
    found.sort(key=lambda refund: refund["id"], reverse=True)
    limit = int(params.get("limit") or 10)
    return {
        "object": "list",
        "url": "/v1/refunds",
        "has_more": len(found) > limit,
        "data": found[:limit],
    }


Handler = Callable[..., dict[str, Any]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(r"/v1/payment_intents"), create_payment_intent),
    ("GET", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), get_payment_intent),
    ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), update_payment_intent),
    ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/cancel"), cancel_payment_intent),
    ("POST", re.compile(r"/v1/refunds"), create_refund),
    ("GET", re.compile(r"/v1/refunds"), list_refunds),
    ("POST", re.compile(r"/v1/coupons"), create_coupon),
    ("POST", re.compile(r"/v1/tax_rates"), create_tax_rate),
    ("POST", re.compile(r"/v1/shipping_rates"), create_shipping_rate),
    ("POST", re.compile(r"/v1/checkout/sessions"), create_checkout_session),
    ("GET", re.compile(r"/v1/checkout/sessions"), list_checkout_sessions),
    ("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)"), get_checkout_session),
    ("POST", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/expire"), expire_checkout_session),
    ("POST", re.compile(r"/v1/tax/calculations"), tax.create_calculation),
    ("GET", re.compile(r"/v1/tax/calculations/(?P<id>[^/]+)"), tax.get_calculation),
    (
        "GET",
        re.compile(r"/v1/tax/calculations/(?P<id>[^/]+)/line_items"),
        tax.list_calculation_lines,
    ),
    ("POST", re.compile(r"/v1/tax/transactions/create_from_calculation"), tax.create_transaction),
    ("POST", re.compile(r"/v1/tax/transactions/create_reversal"), tax.create_reversal),
]


def dispatch(method: str, path: str, body: dict[str, Any], params: dict[str, str]) -> Any:
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if route_method == method and match:
            if method == "GET":
                # A read takes no write lock: on SQLite the shop may be holding the one there
                # is while it asks (a webhook's handler reading a payment's refunds).
                return handler(body, params, **match.groupdict())
            with transaction.atomic():
                return handler(body, params, **match.groupdict())
    raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")
