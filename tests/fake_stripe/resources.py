"""The Stripe objects the fake keeps, and the API routes that create and read them."""

import re
import secrets
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fake_stripe.server import RecordedRequest


class StripeError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param

    def payload(self) -> dict[str, Any]:
        error = {"type": "invalid_request_error", "message": self.message, "param": self.param}
        if self.status == 404:
            error["code"] = "resource_missing"  # as Stripe names an object it does not know
        return error


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


# Stripe takes amounts in these currencies in thousandths, and only in tens of them.
_TENS_ONLY = {"bhd", "jod", "kwd", "omr", "tnd"}


def _to_chargeable(exact: Decimal, currency: str) -> int:
    """`exact` minor units rounded half up to an amount Stripe charges in `currency`."""
    step = Decimal(10 if currency in _TENS_ONLY else 1)
    return int((exact / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step)


def _check_chargeable(amount: int, currency: str) -> None:
    if currency in _TENS_ONLY and amount % 10:
        raise StripeError(
            400, f"Amounts in {currency.upper()} must be divisible by 10.", param="amount"
        )


# Stripe's smallest charges in a few currencies (minor units), as its currency page lists them.
_MINIMUM = {"usd": 50, "eur": 50, "gbp": 30, "jpy": 50}


def _check_minimum(amount: int, currency: str, *, param: str) -> None:
    least = _MINIMUM.get(currency)
    if least is not None and 0 < amount < least:
        raise StripeError(
            400, f"Amount must be at least {least} {currency} (minor units).", param=param
        )


# Fields an empty string clears, as Stripe takes it; any other field refuses one.
_CLEARABLE = ("metadata", "description", "receipt_email")


def _refuse_empty_strings(value: Any, path: str = "") -> None:
    """Stripe reads an empty string as "unset this", and refuses it for a field that cannot be
    unset (`shipping[phone]`, `shipping[address][line2]`, ...)."""
    if path.split("[")[0] in _CLEARABLE:
        return
    if value == "":
        raise StripeError(
            400,
            f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
            f"unset a parameter; however '{path}' cannot be unset.",
            param=path,
        )
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        _refuse_empty_strings(child, f"{path}[{key}]" if path else str(key))


# The fake's Stripe Tax: one rate per buyer's country (what Stripe Tax would find for a shop
# registered there), applied to every line and to shipping.
TAX_RATES: dict[str, tuple[str, Decimal]] = {
    "DE": ("VAT", Decimal("19")),
    "FR": ("TVA", Decimal("20")),
    "GB": ("VAT", Decimal("20")),
    "JP": ("JCT", Decimal("10")),
    "US": ("Sales tax", Decimal("6.25")),
}
# The fake's Adaptive Pricing: the currency a buyer in a country sees, and its value in USD.
LOCAL_CURRENCY = {"DE": "eur", "FR": "eur", "GB": "gbp", "JP": "jpy", "US": "usd"}
USD_PER_UNIT = {"usd": Decimal("1"), "eur": Decimal("1.10"), "gbp": Decimal("1.25")}
USD_PER_UNIT["jpy"] = Decimal("0.0068")
_EXPONENT = {"jpy": 0, "krw": 0, "vnd": 0, "clp": 0, **dict.fromkeys(_TENS_ONLY, 3)}


def present(amount: int, currency: str, local: str) -> int:
    """`amount` (minor units of `currency`) in `local`'s minor units, at the fake's rates."""
    major = Decimal(amount).scaleb(-_EXPONENT.get(currency, 2)) * USD_PER_UNIT[currency]
    return _to_chargeable((major / USD_PER_UNIT[local]).scaleb(_EXPONENT.get(local, 2)), local)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _tax_part(net: Decimal, percentage: Decimal, inclusive: bool, currency: str) -> int:
    """The tax in `net` (inclusive) or on top of it (exclusive), rounded as Stripe charges."""
    share = percentage / (100 + percentage) if inclusive else percentage / 100
    return _to_chargeable(net * share, currency)


def _require(body: dict[str, Any], name: str) -> Any:
    if body.get(name) in (None, ""):
        raise StripeError(400, f"Missing required param: {name}.", param=name)
    return body[name]


# Stripe Tax's own API lives beside this module and reads the helpers above.
from tests.fake_stripe.tax import StripeTax  # noqa: E402


class Resources(StripeTax):
    def __init__(self) -> None:
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.coupons: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.tax_rates: dict[str, dict[str, Any]] = {}
        # Each session's tax per rate, once its buyer's address is known (automatic tax).
        self.tax_breakdowns: dict[str, list[dict[str, Any]]] = {}
        self.shipping_rates: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        # What a new refund's status is: "pending" or "requires_action" as Stripe answers for
        # methods that refund later, "failed" or "canceled" as it reports a bank's no at once.
        self.refund_status = "succeeded"
        self._routes: list[tuple[str, re.Pattern[str], Callable[..., dict[str, Any]]]] = [
            ("POST", re.compile(r"/v1/payment_intents"), self.create_payment_intent),
            ("GET", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), self.get_payment_intent),
            ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), self.update_payment_intent),
            (
                "POST",
                re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/cancel"),
                self.cancel_payment_intent,
            ),
            ("POST", re.compile(r"/v1/refunds"), self.create_refund),
            ("GET", re.compile(r"/v1/refunds"), self.list_refunds),
            ("GET", re.compile(r"/v1/refunds/(?P<id>[^/]+)"), self.get_refund),
            ("POST", re.compile(r"/v1/coupons"), self.create_coupon),
            ("POST", re.compile(r"/v1/products"), self.create_product),
            ("POST", re.compile(r"/v1/tax_rates"), self.create_tax_rate),
            ("POST", re.compile(r"/v1/shipping_rates"), self.create_shipping_rate),
            ("POST", re.compile(r"/v1/checkout/sessions"), self.create_checkout_session),
            ("GET", re.compile(r"/v1/checkout/sessions"), self.list_checkout_sessions),
            ("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)"), self.get_checkout_session),
            (
                "POST",
                re.compile(r"/v1/checkout/sessions/(?P<id>[^/]+)/expire"),
                self.expire_checkout_session,
            ),
            *self.tax_routes(),
        ]

    def dispatch(self, request: "RecordedRequest") -> dict[str, Any]:
        if request.method == "POST":
            _refuse_empty_strings(request.body)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                return handler(request, **match.groupdict())
        raise StripeError(404, f"Unrecognized request URL ({request.method}: {request.path}).")

    # --- Checkout Sessions ---------------------------------------------------------------------
    def create_checkout_session(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        if _require(body, "mode") != "payment":
            raise StripeError(400, "The fake only knows mode=payment.", param="mode")
        _require(body, "success_url")
        line_items = _require(body, "line_items")
        if len(line_items) > 100:
            raise StripeError(
                400, "A payment-mode session takes at most 100 line items.", param="line_items"
            )
        currencies = {line["price_data"]["currency"] for line in line_items}
        if len(currencies) != 1:
            raise StripeError(400, "All line items must share one currency.", param="line_items")
        currency = currencies.pop()
        options = self._shipping_options(body, currency)
        automatic = _dict(body.get("automatic_tax")).get("enabled") == "true"
        if automatic:
            self._check_automatic_tax(body, line_items, options)
        # An open session is priced with its first shipping option, as Stripe shows it (and,
        # with automatic tax, without tax until the buyer's address is known).
        totals = self._price(body, line_items, currency, shipping=options[0] if options else None)
        _check_minimum(
            totals[0]["amount_total"] - totals[0]["total_details"]["amount_shipping"],
            currency,
            param="line_items",
        )
        return self._open_session(
            currency=currency,
            **totals[0],
            automatic_tax={
                "enabled": automatic,
                "status": "requires_location_inputs" if automatic else None,
                "liability": {"type": "self"} if automatic else None,
            },
            billing_address_collection=body.get("billing_address_collection"),
            tax_id_collection={
                "enabled": _dict(body.get("tax_id_collection")).get("enabled") == "true"
            },
            adaptive_pricing={
                "enabled": _dict(body.get("adaptive_pricing")).get("enabled") == "true"
            },
            presentment_details=None,
            consent_collection=body.get("consent_collection"),
            consent=None,
            shipping_options=options,
            customer_email=body.get("customer_email"),
            shipping_address_collection=body.get("shipping_address_collection"),
            phone_number_collection=body.get("phone_number_collection"),
            line_items_sent=line_items,
            discounts_sent=body.get("discounts", []),
            client_reference_id=body.get("client_reference_id"),
            metadata=body.get("metadata", {}),
            success_url=body["success_url"],
            cancel_url=body.get("cancel_url"),
            expires_at=int(time.time()) + 24 * 3600,
        )

    def _check_automatic_tax(
        self,
        body: dict[str, Any],
        line_items: list[dict[str, Any]],
        options: list[dict[str, Any]],
    ) -> None:
        """What Stripe refuses of a session with automatic tax (and what the fake insists on:
        each price says whether it includes tax, and an address is collected to tax by)."""
        for index, line in enumerate(line_items):
            if line.get("tax_rates"):
                raise StripeError(
                    400,
                    "You cannot use tax rates on a line item when automatic tax is enabled.",
                    param=f"line_items[{index}][tax_rates]",
                )
            if line["price_data"].get("tax_behavior") not in ("inclusive", "exclusive"):
                raise StripeError(
                    400,
                    "Automatic tax needs each price's tax_behavior.",
                    param=f"line_items[{index}][price_data][tax_behavior]",
                )
        for index, option in enumerate(options):
            rate = self.shipping_rates[option["shipping_rate"]]
            if rate.get("tax_behavior") not in ("inclusive", "exclusive"):
                raise StripeError(
                    400,
                    "Shipping rates must have a tax_behavior when automatic tax is enabled.",
                    param=f"shipping_options[{index}]",
                )
        if not body.get("shipping_address_collection") and (
            body.get("billing_address_collection") != "required"
        ):
            raise StripeError(
                400,
                "Automatic tax needs an address: collect the shipping or the billing address.",
                param="automatic_tax",
            )

    def _open_session(self, **fields: Any) -> dict[str, Any]:
        session_id = _new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "payment_intent": None,
            "created": int(time.time()),
            "livemode": False,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            **fields,
        }
        self.checkout_sessions[session_id] = session
        return session

    def _shipping_options(self, body: dict[str, Any], currency: str) -> list[dict[str, Any]]:
        """The session's shipping options as Stripe lists them: each rate and its amount."""
        options = []
        for index, option in enumerate(body.get("shipping_options", [])):
            rate = self.shipping_rates.get(option.get("shipping_rate", ""))
            if rate is None:
                raise StripeError(400, "No such shipping rate.", param=f"shipping_options[{index}]")
            if rate["fixed_amount"]["currency"] != currency:
                raise StripeError(400, "The shipping rate's currency does not match.")
            options.append(
                {"shipping_amount": rate["fixed_amount"]["amount"], "shipping_rate": rate["id"]}
            )
        if len(options) > 5:
            raise StripeError(400, "At most 5 shipping options.", param="shipping_options")
        return options

    def _price(
        self,
        body: dict[str, Any],
        line_items: list[dict[str, Any]],
        currency: str,
        *,
        shipping: dict[str, Any] | None = None,
        country: str | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """What Checkout charges: the discount off first, then tax per line on what is left,
        then the chosen shipping rate's fixed amount (neither discounted nor taxed by a
        coupon or line tax rates, which apply to line items only). With automatic tax and the
        buyer's `country`, the fake's Stripe Tax taxes each line and the shipping at the
        country's rate, each as its price's tax_behavior says. Also answers the tax per rate
        (what `expand[]=total_details.breakdown` shows)."""
        amounts = []
        for index, line in enumerate(line_items):
            product = line["price_data"].get("product")
            if product is not None and product not in self.products:
                raise StripeError(
                    400, f"No such product: '{product}'", param=f"line_items[{index}][price_data]"
                )
            if (product is None) == ("product_data" not in line["price_data"]):
                raise StripeError(
                    400,
                    "Give exactly one of product and product_data.",
                    param=f"line_items[{index}][price_data]",
                )
            unit_amount = line["price_data"].get("unit_amount", "")
            quantity = line.get("quantity", "1")
            if not unit_amount.isdigit() or not quantity.isdigit() or int(quantity) < 1:
                raise StripeError(400, "Invalid integer.", param=f"line_items[{index}]")
            amounts.append(int(unit_amount) * int(quantity))
        subtotal = sum(amounts)

        discount = 0
        # A coupon limited to some products (`applies_to`) discounts only the lines priced
        # with one of them, and no more than they come to.
        covered = list(amounts)
        if len(body.get("discounts", [])) > 1:
            raise StripeError(400, "Checkout takes one discount.", param="discounts")
        for entry in body.get("discounts", []):
            coupon = self.coupons.get(entry.get("coupon", ""))
            if coupon is None:
                raise StripeError(400, "No such coupon.", param="discounts")
            limited = (coupon.get("applies_to") or {}).get("products")
            if limited is not None:
                covered = [
                    amount if line["price_data"].get("product") in limited else 0
                    for line, amount in zip(line_items, amounts, strict=True)
                ]
            eligible = sum(covered)
            if coupon["percent_off"] is not None:
                exact = Decimal(eligible) * Decimal(coupon["percent_off"]) / 100
                discount = _to_chargeable(exact, currency)
            else:
                if coupon["currency"] != currency:
                    raise StripeError(400, "The coupon's currency does not match.")
                discount = coupon["amount_off"]
            discount = min(discount, eligible)

        # The discount, spread over the lines it covers by amount; leftover units go to the
        # largest remainders (then the earlier line).
        eligible = sum(covered)
        shares = [divmod(discount * amount, eligible) if eligible else (0, 0) for amount in covered]
        cuts = [quotient for quotient, _ in shares]
        leftover = discount - sum(cuts)
        for index in sorted(range(len(shares)), key=lambda i: (-shares[i][1], i))[:leftover]:
            cuts[index] += 1

        exclusive_tax = inclusive_tax = 0
        for line, amount, cut in zip(line_items, amounts, cuts, strict=True):
            for rate_id in line.get("tax_rates", []):
                rate = self.tax_rates.get(rate_id)
                if rate is None:
                    raise StripeError(400, "No such tax rate.", param="tax_rates")
                percentage = Decimal(rate["percentage"])
                net = Decimal(amount - cut)
                if rate["inclusive"]:
                    part = net * percentage / (100 + percentage)
                else:
                    part = net * percentage / 100
                rounded = _to_chargeable(part, currency)
                if rate["inclusive"]:
                    inclusive_tax += rounded
                else:
                    exclusive_tax += rounded
        shipping_amount = int(shipping["shipping_amount"]) if shipping else 0
        shipping_tax = shipping_added = 0
        breakdown: list[dict[str, Any]] = []
        automatic = _dict(body.get("automatic_tax")).get("enabled") == "true"
        if automatic and country in TAX_RATES:
            name, percentage = TAX_RATES[country]
            taxable = taxed = 0
            for line, amount, cut in zip(line_items, amounts, cuts, strict=True):
                inclusive = line["price_data"]["tax_behavior"] == "inclusive"
                line_tax = _tax_part(Decimal(amount - cut), percentage, inclusive, currency)
                taxed += line_tax
                taxable += amount - cut - (line_tax if inclusive else 0)
                if inclusive:
                    inclusive_tax += line_tax
                else:
                    exclusive_tax += line_tax
            if shipping:
                rate = self.shipping_rates[shipping["shipping_rate"]]
                inclusive = rate["tax_behavior"] == "inclusive"
                shipping_tax = _tax_part(Decimal(shipping_amount), percentage, inclusive, currency)
                shipping_added = 0 if inclusive else shipping_tax
                taxed += shipping_tax
                taxable += shipping_amount - (shipping_tax if inclusive else 0)
            inclusive_all = all(
                line["price_data"]["tax_behavior"] == "inclusive" for line in line_items
            )
            breakdown.append(
                {
                    "amount": taxed,
                    "taxable_amount": taxable,
                    "taxability_reason": "standard_rated",
                    "rate": {
                        "object": "tax_rate",
                        "display_name": name,
                        "percentage": float(percentage),
                        "inclusive": inclusive_all,
                        "country": country,
                        "jurisdiction": country,
                    },
                }
            )
        return (
            {
                "amount_subtotal": subtotal,
                "amount_total": subtotal
                - discount
                + exclusive_tax
                + shipping_amount
                + shipping_added,
                "total_details": {
                    "amount_discount": discount,
                    "amount_tax": exclusive_tax + inclusive_tax + shipping_tax,
                    "amount_shipping": shipping_amount + shipping_added,
                },
                "shipping_cost": (
                    {
                        "amount_subtotal": shipping_amount,
                        "amount_tax": shipping_tax,
                        "amount_total": shipping_amount + shipping_added,
                        "shipping_rate": shipping["shipping_rate"],
                    }
                    if shipping
                    else None
                ),
            },
            breakdown,
        )

    # --- Coupons and Tax Rates -----------------------------------------------------------------
    def create_coupon(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        percent_off, amount_off = body.get("percent_off"), body.get("amount_off")
        if (percent_off is None) == (amount_off is None):
            raise StripeError(400, "Give exactly one of percent_off and amount_off.")
        if amount_off is not None and not body.get("currency"):
            raise StripeError(400, "amount_off needs a currency.", param="currency")
        if percent_off is not None and not 0 < Decimal(percent_off) <= 100:
            raise StripeError(400, "percent_off must be in (0, 100].", param="percent_off")
        coupon = {
            "id": secrets.token_hex(4),
            "object": "coupon",
            "name": body.get("name"),
            "duration": body.get("duration", "once"),
            "percent_off": percent_off,
            "amount_off": int(amount_off) if amount_off is not None else None,
            "currency": body.get("currency"),
            "applies_to": None,
            "valid": True,
        }
        products = _dict(body.get("applies_to")).get("products")
        if products is not None:
            for product in products:
                if product not in self.products:
                    raise StripeError(
                        400, f"No such product: '{product}'", param="applies_to[products]"
                    )
            coupon["applies_to"] = {"products": list(products)}
        self.coupons[coupon["id"]] = coupon
        return coupon

    def create_product(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        name = _require(body, "name")
        product = {
            "id": _new_id("prod"),
            "object": "product",
            "name": name,
            "description": body.get("description"),
            "images": body.get("images", []),
            "tax_code": body.get("tax_code"),
            "active": True,
        }
        self.products[product["id"]] = product
        return product

    def create_shipping_rate(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        _require(body, "display_name")
        if body.get("type", "fixed_amount") != "fixed_amount":
            raise StripeError(400, "The fake only knows fixed_amount.", param="type")
        fixed = _require(body, "fixed_amount")
        amount = str(fixed.get("amount", ""))
        if not amount.isdigit() or not fixed.get("currency"):
            raise StripeError(400, "Invalid fixed_amount.", param="fixed_amount")
        rate = {
            "id": _new_id("shr"),
            "object": "shipping_rate",
            "active": True,
            "display_name": body["display_name"],
            "type": "fixed_amount",
            "fixed_amount": {"amount": int(amount), "currency": fixed["currency"]},
            "delivery_estimate": body.get("delivery_estimate"),
            "metadata": body.get("metadata", {}),
            "tax_behavior": body.get("tax_behavior", "unspecified"),
            "tax_code": body.get("tax_code"),
        }
        self.shipping_rates[rate["id"]] = rate
        return rate

    def create_tax_rate(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        _require(body, "display_name")
        percentage = _require(body, "percentage")
        if body.get("inclusive") not in ("true", "false"):
            raise StripeError(400, "Missing required param: inclusive.", param="inclusive")
        tax_rate = {
            "id": _new_id("txr"),
            "object": "tax_rate",
            "display_name": body["display_name"],
            "percentage": percentage,
            "inclusive": body["inclusive"] == "true",
            "active": True,
        }
        self.tax_rates[tax_rate["id"]] = tax_rate
        return tax_rate

    def _session(self, session_id: str) -> dict[str, Any]:
        if session_id not in self.checkout_sessions:
            raise StripeError(404, f"No such checkout.session: '{session_id}'", param="session")
        return self.checkout_sessions[session_id]

    def get_checkout_session(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        session = self._session(id)
        if "total_details.breakdown" in request.params.values():
            # Stripe answers the tax per rate only when asked to expand it.
            return {
                **session,
                "total_details": {
                    **(session.get("total_details") or {}),
                    "breakdown": {"discounts": [], "taxes": self.tax_breakdowns.get(id, [])},
                },
            }
        return session

    def outside_session(
        self,
        *,
        amount_total: int,
        currency: str,
        metadata: dict[str, str] | None = None,
        client_reference_id: str | None = None,
    ) -> dict[str, Any]:
        """An open Checkout Session the shop did not make, as a Payment Link on the same account
        makes one (taking ?client_reference_id= from its URL)."""
        return self._open_session(
            currency=currency,
            amount_subtotal=amount_total,
            amount_total=amount_total,
            client_reference_id=client_reference_id,
            metadata=metadata or {},
        )

    def list_checkout_sessions(self, request: "RecordedRequest") -> dict[str, Any]:
        """Stripe's list, newest first, filtered by `payment_intent` and `created[gte|lte]` and
        paged by `starting_after` as Stripe does."""
        wanted = request.params.get("payment_intent")
        since = int(request.params.get("created[gte]") or 0)
        until = int(request.params.get("created[lte]") or 2**62)
        found = [
            session
            for session in reversed(self.checkout_sessions.values())
            if (wanted is None or session.get("payment_intent") == wanted)
            and since <= session["created"] <= until
        ]
        after = request.params.get("starting_after")
        if after:
            ids = [session["id"] for session in found]
            found = found[ids.index(after) + 1 :] if after in ids else []
        limit = int(request.params.get("limit") or 10)
        return {
            "object": "list",
            "url": "/v1/checkout/sessions",
            "has_more": len(found) > limit,
            "data": found[:limit],
        }

    def expire_checkout_session(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        session = self._session(id)
        if session["status"] != "open":
            raise StripeError(400, "Only open Checkout Sessions can be expired.")
        session.update(status="expired", url=None)
        return session

    def abandon_checkout_session(
        self, session_id: str, *, email: str = "buyer@example.com", consent: bool = True
    ) -> dict[str, Any]:
        """A customer gives their e-mail (ticking the promotions box, or not) and leaves; the
        session expires unpaid, as `checkout.session.expired` then reports it."""
        session = self._session(session_id)
        asked = _dict(session.get("consent_collection")).get("promotions") == "auto"
        session["customer_details"] = {"email": email, "name": None, "phone": None}
        session["consent"] = {"promotions": "opt_in" if consent else "opt_out"} if asked else None
        session.update(status="expired", url=None)
        return session

    def complete_checkout_session(
        self,
        session_id: str,
        *,
        paid: bool = True,
        email: str = "buyer@example.com",
        name: str = "Ada Buyer",
        phone: str | None = None,
        address: dict[str, str | None] | None = None,
        shipping_option: int = 0,
        business_name: str | None = None,
        tax_id: str | None = None,
    ) -> dict[str, Any]:
        """What a customer paying on Checkout does: gives their details (an address if asked
        for one), picks a shipping option, and the session completes (and is paid, unless the
        payment method is asynchronous and still processing)."""
        session = self._session(session_id)
        options = session.get("shipping_options") or []
        given: dict[str, str | None] = address or {
            "line1": "1 Main St",
            "line2": None,
            "city": "Springfield",
            "postal_code": "12345",
            "state": "IL",
            "country": "US",
        }
        country = given.get("country") or ""
        automatic = bool(_dict(session.get("automatic_tax")).get("enabled"))
        if options or automatic:
            totals, breakdown = self._price(
                {
                    "discounts": session.get("discounts_sent", []),
                    "automatic_tax": {"enabled": "true" if automatic else "false"},
                },
                session["line_items_sent"],
                session["currency"],
                shipping=options[shipping_option] if options else None,
                country=country,
            )
            session.update(totals)
            self.tax_breakdowns[session_id] = breakdown
            if automatic:
                session["automatic_tax"]["status"] = "complete"
        collect_address = bool(session.get("shipping_address_collection"))
        business = bool(_dict(session.get("tax_id_collection")).get("enabled") and business_name)
        session["customer_details"] = {
            "email": session.get("customer_email") or email,
            "name": name,
            "phone": phone if session.get("phone_number_collection") else None,
            "address": (
                given
                if session.get("billing_address_collection") == "required"
                else {"country": country}
            ),
            "business_name": business_name if business else None,
            "tax_exempt": "none",
            "tax_ids": [{"type": "eu_vat", "value": tax_id}] if business and tax_id else [],
        }
        local = LOCAL_CURRENCY.get(country, session["currency"])
        adaptive = _dict(session.get("adaptive_pricing")).get("enabled")
        if adaptive and local != session["currency"]:
            session["presentment_details"] = {
                "presentment_amount": present(session["amount_total"], session["currency"], local),
                "presentment_currency": local,
            }
        session["collected_information"] = {
            "shipping_details": {"name": name, "address": given} if collect_address else None
        }
        intent = self._new_intent(
            amount=session["amount_total"],
            currency=session["currency"],
            metadata=dict(session.get("metadata") or {}),
        )
        session.update(
            status="complete",
            payment_status="paid" if paid else "unpaid",
            payment_intent=intent["id"],
            url=None,
        )
        if paid:
            self.succeed_payment_intent(intent["id"])
        else:
            intent["status"] = "processing"
        return session

    # --- PaymentIntents, charges and refunds ---------------------------------------------------
    def _new_intent(
        self, *, amount: int, currency: str, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        intent_id = _new_id("pi")
        intent = {
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
        }
        self.payment_intents[intent_id] = intent
        return intent

    def create_payment_intent(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        amount, currency = _require(body, "amount"), _require(body, "currency")
        if not amount.isdigit() or int(amount) < 1:
            raise StripeError(400, "Invalid positive integer.", param="amount")
        _check_chargeable(int(amount), currency)
        _check_minimum(int(amount), currency, param="amount")
        metadata = dict(body.get("metadata") or {})
        if "" in metadata.values():
            raise StripeError(400, "Metadata values cannot be empty on create.", param="metadata")
        intent = self._new_intent(amount=int(amount), currency=currency, metadata={})
        self._intent_details(intent, {**body, "metadata": metadata})
        return intent

    def _intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.payment_intents:
            raise StripeError(404, f"No such payment_intent: '{intent_id}'", param="intent")
        return self.payment_intents[intent_id]

    def get_payment_intent(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        return self._intent(id)

    def update_payment_intent(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        intent = self._intent(id)
        if intent["status"] in ("succeeded", "canceled", "processing"):
            raise StripeError(400, f"This PaymentIntent's status is {intent['status']}.")
        body = request.body
        if "amount" in body:
            _check_chargeable(int(body["amount"]), intent["currency"])
            intent["amount"] = int(body["amount"])
        self._intent_details(intent, body)
        return intent

    def _intent_details(self, intent: dict[str, Any], body: dict[str, Any]) -> None:
        """receipt_email, shipping and metadata as Stripe takes them on create and update: an
        empty metadata value removes its key; shipping needs a name and an address line."""
        if "receipt_email" in body:
            email = body["receipt_email"]
            if email and "@" not in email:
                raise StripeError(400, "Invalid email address.", param="receipt_email")
            intent["receipt_email"] = email or None
        if "shipping" in body:
            shipping = body["shipping"] or None
            if shipping is not None:
                address = shipping.get("address") or {}
                if not shipping.get("name") or not address.get("line1"):
                    raise StripeError(400, "Missing required param.", param="shipping")
                shipping = {
                    "name": shipping["name"],
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
            if len(str(value)) > 500:
                raise StripeError(400, "Metadata values can have up to 500 characters.")
            if value == "":
                intent["metadata"].pop(key, None)
            else:
                intent["metadata"][key] = value

    def cancel_payment_intent(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        intent = self._intent(id)
        if intent["status"] in ("succeeded", "canceled"):
            raise StripeError(400, f"This PaymentIntent's status is {intent['status']}.")
        intent["status"] = "canceled"
        return intent

    def succeed_payment_intent(self, intent_id: str) -> dict[str, Any]:
        """What a customer confirming a payment does: it succeeds, with a charge."""
        intent = self._intent(intent_id)
        charge_id = _new_id("ch")
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "refunded": False,
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "metadata": {},
        }
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge_id)
        return intent

    def create_refund(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        amount = body.get("amount")
        if amount is not None and not str(amount).isdigit():
            raise StripeError(400, "Invalid integer.", param="amount")
        metadata = dict(body.get("metadata") or {})
        return self.refund(
            _require(body, "payment_intent"),
            amount=None if amount is None else int(amount),
            status=self.refund_status,
            metadata=metadata,
        )

    def refund(
        self,
        intent_id: str,
        *,
        amount: int | None = None,
        status: str = "succeeded",
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A refund of the payment, as Stripe makes one through the API or its Dashboard. The
        charge's amount_refunded counts it unless it failed at once (as Stripe counts pending
        refunds), and a refund that fails later gives it back (see `settle_refund`)."""
        intent = self._intent(intent_id)
        if intent["status"] != "succeeded":
            raise StripeError(400, "This PaymentIntent has not succeeded.")
        charge = self.charges[intent["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = remaining if amount is None else amount
        if remaining <= 0 or not 0 < amount <= remaining:
            raise StripeError(400, "The charge has already been refunded.", param="amount")
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "status": status,
            "payment_intent": intent["id"],
            "charge": charge["id"],
            "metadata": metadata or {},
            "failure_reason": "unknown" if status == "failed" else None,
            "created": int(time.time()),
        }
        if status not in ("failed", "canceled"):
            self._count_refund(charge, amount)
        self.refunds[refund["id"]] = refund
        return refund

    def _count_refund(self, charge: dict[str, Any], amount: int) -> None:
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]

    def settle_refund(
        self, refund_id: str, status: str, *, failure_reason: str = "expired_or_canceled_card"
    ) -> dict[str, Any]:
        """What the customer's bank does with a refund later: it succeeds, or fails (also
        after it succeeded) or is canceled, and its amount goes back to the charge."""
        refund = self.refunds[refund_id]
        if status in ("failed", "canceled") and refund["status"] not in ("failed", "canceled"):
            self._count_refund(self.charges[refund["charge"]], -refund["amount"])
            refund["failure_reason"] = failure_reason if status == "failed" else None
        refund["status"] = status
        return refund

    def get_refund(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        if id not in self.refunds:
            raise StripeError(404, f"No such refund: '{id}'", param="id")
        return self.refunds[id]

    def list_refunds(self, request: "RecordedRequest") -> dict[str, Any]:
        """Stripe's list, newest first, filtered by `payment_intent`."""
        wanted = request.params.get("payment_intent")
        found = [
            refund
            for refund in reversed(self.refunds.values())
            if wanted is None or refund["payment_intent"] == wanted
        ]
        limit = int(request.params.get("limit") or 10)
        return {
            "object": "list",
            "url": "/v1/refunds",
            "has_more": len(found) > limit,
            "data": found[:limit],
        }
