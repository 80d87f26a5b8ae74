"""The fake's Stripe Tax API: calculations, the transactions made from them and their reversals,
in Stripe's shapes, at the fake's one rate per buyer's country (resources.TAX_RATES)."""

import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.fake_stripe.resources import TAX_RATES, StripeError, _dict, _new_id, _tax_part

if TYPE_CHECKING:
    from tests.fake_stripe.server import RecordedRequest

# What Stripe calls each rate of the fake's countries (`tax_rate_details.tax_type`).
TAX_TYPES = {"DE": "vat", "FR": "vat", "GB": "vat", "JP": "jct", "US": "sales_tax"}
CALCULATION_LIFETIME = 90 * 24 * 3600


def _integer(value: Any, param: str, *, minimum: int = 0) -> int:
    text = str(value if value is not None else "")
    if not text.lstrip("-").isdigit() or int(text) < minimum:
        raise StripeError(400, "Invalid integer.", param=param)
    return int(text)


def _behavior(value: Any, param: str) -> str:
    behavior = value or "exclusive"
    if behavior not in ("inclusive", "exclusive"):
        raise StripeError(400, "Invalid tax_behavior.", param=param)
    return str(behavior)


def _percentage(percentage: Decimal) -> str:
    return f"{percentage:.1f}" if percentage == percentage.to_integral() else str(percentage)


class StripeTax:
    """Mixed into the fake's Resources."""

    tax_calculations: dict[str, dict[str, Any]]
    tax_calculation_lines: dict[str, list[dict[str, Any]]]
    tax_transactions: dict[str, dict[str, Any]]

    def tax_routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., dict[str, Any]]]]:
        self.tax_calculations = {}
        self.tax_calculation_lines = {}
        self.tax_transactions = {}
        return [
            ("POST", re.compile(r"/v1/tax/calculations"), self.create_tax_calculation),
            ("GET", re.compile(r"/v1/tax/calculations/(?P<id>[^/]+)"), self.get_tax_calculation),
            (
                "GET",
                re.compile(r"/v1/tax/calculations/(?P<id>[^/]+)/line_items"),
                self.list_tax_calculation_lines,
            ),
            (
                "POST",
                re.compile(r"/v1/tax/transactions/create_from_calculation"),
                self.create_tax_transaction,
            ),
            (
                "POST",
                re.compile(r"/v1/tax/transactions/create_reversal"),
                self.create_tax_reversal,
            ),
            ("GET", re.compile(r"/v1/tax/transactions/(?P<id>[^/]+)"), self.get_tax_transaction),
        ]

    # --- calculations ----------------------------------------------------------------------------
    def create_tax_calculation(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        currency = str(body.get("currency") or "")
        if not currency:
            raise StripeError(400, "Missing required param: currency.", param="currency")
        customer = _dict(body.get("customer_details"))
        address = _dict(customer.get("address"))
        country = str(address.get("country") or "").upper()
        if not country:
            raise StripeError(
                400,
                "Missing required param: customer_details[address][country].",
                param="customer_details[address][country]",
            )
        if country == "US" and not address.get("postal_code"):
            # As Stripe: a US address needs at least its ZIP code to find the tax.
            raise StripeError(
                400, "Unable to determine the customer's tax location.", param="customer_details"
            )
        items = body.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeError(400, "Missing required param: line_items.", param="line_items")
        name, percentage = TAX_RATES.get(country, ("", Decimal(0)))
        calculation_id = _new_id("taxcalc")
        lines, references = [], set()
        for index, item in enumerate(items):
            amount = _integer(item.get("amount"), f"line_items[{index}][amount]")
            behavior = _behavior(item.get("tax_behavior"), f"line_items[{index}][tax_behavior]")
            reference = item.get("reference") or f"line_item_{index}"
            if reference in references:
                raise StripeError(400, "Line item references must be unique.", param="line_items")
            references.add(reference)
            tax = _tax_part(Decimal(amount), percentage, behavior == "inclusive", currency)
            lines.append(
                {
                    "id": _new_id("tax_li"),
                    "object": "tax.calculation_line_item",
                    "amount": amount,
                    "amount_tax": tax,
                    "livemode": False,
                    "metadata": dict(_dict(item.get("metadata"))),
                    "product": item.get("product"),
                    "quantity": _integer(item.get("quantity", 1), "quantity", minimum=1),
                    "reference": reference,
                    "tax_behavior": behavior,
                    "tax_breakdown": None,
                    "tax_code": item.get("tax_code") or "txcd_99999999",
                }
            )
        shipping = _dict(body.get("shipping_cost"))
        shipping_cost: dict[str, Any] | None = None
        if shipping:
            amount = _integer(shipping.get("amount"), "shipping_cost[amount]")
            behavior = _behavior(shipping.get("tax_behavior"), "shipping_cost[tax_behavior]")
            shipping_cost = {
                "amount": amount,
                "amount_tax": _tax_part(
                    Decimal(amount), percentage, behavior == "inclusive", currency
                ),
                "shipping_rate": None,
                "tax_behavior": behavior,
                "tax_breakdown": [],
                "tax_code": shipping.get("tax_code") or "txcd_92010001",
            }
        taxed = [(line["amount"], line["amount_tax"], line["tax_behavior"]) for line in lines]
        if shipping_cost:
            taxed.append(
                (
                    shipping_cost["amount"],
                    shipping_cost["amount_tax"],
                    shipping_cost["tax_behavior"],
                )
            )
        exclusive = sum(tax for _, tax, behavior in taxed if behavior == "exclusive")
        inclusive = sum(tax for _, tax, behavior in taxed if behavior == "inclusive")
        breakdown = []
        for behavior in ("exclusive", "inclusive"):
            part = [(amount, tax) for amount, tax, b in taxed if b == behavior]
            if not part:
                continue
            tax = sum(t for _, t in part)
            breakdown.append(
                {
                    "amount": tax,
                    "inclusive": behavior == "inclusive",
                    "tax_rate_details": {
                        "country": country,
                        "flat_amount": None,
                        "percentage_decimal": _percentage(percentage),
                        "rate_type": "percentage",
                        "state": address.get("state") or None if country == "US" else None,
                        "tax_type": TAX_TYPES.get(country, "vat"),
                    },
                    "taxability_reason": "standard_rated" if name else "not_collecting",
                    "taxable_amount": sum(
                        a - (t if behavior == "inclusive" else 0) for a, t in part
                    ),
                }
            )
        now = int(time.time())
        calculation = {
            "id": calculation_id,
            "object": "tax.calculation",
            "amount_total": sum(amount for amount, _, _ in taxed) + exclusive,
            "currency": currency,
            "customer": None,
            "customer_details": {
                "address": {
                    key: address.get(key) or None
                    for key in ("line1", "line2", "city", "state", "postal_code", "country")
                },
                "address_source": customer.get("address_source") or "shipping",
                "ip_address": None,
                "tax_ids": [],
                "taxability_override": "none",
            },
            "expires_at": now + CALCULATION_LIFETIME,
            "line_items": None,
            "livemode": False,
            "ship_from_details": None,
            "shipping_cost": shipping_cost,
            "tax_amount_exclusive": exclusive,
            "tax_amount_inclusive": inclusive,
            "tax_breakdown": breakdown,
            "tax_date": now,
        }
        self.tax_calculations[calculation_id] = calculation
        self.tax_calculation_lines[calculation_id] = lines
        return self._calculation(calculation_id, request)

    def _calculation(self, calculation_id: str, request: "RecordedRequest") -> dict[str, Any]:
        if calculation_id not in self.tax_calculations:
            raise StripeError(404, f"No such tax calculation: '{calculation_id}'", param="id")
        answer = dict(self.tax_calculations[calculation_id])
        # As Stripe: the line items only when asked to expand them.
        expand = request.body.get("expand") or request.params.get("expand[0]") or []
        if "line_items" in expand:
            answer["line_items"] = self._line_list(calculation_id)
        return answer

    def _line_list(self, calculation_id: str) -> dict[str, Any]:
        lines = self.tax_calculation_lines[calculation_id]
        return {
            "object": "list",
            "data": lines,
            "has_more": False,
            "url": f"/v1/tax/calculations/{calculation_id}/line_items",
        }

    def get_tax_calculation(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        return self._calculation(id, request)

    def list_tax_calculation_lines(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        self._calculation(id, request)
        return self._line_list(id)

    # --- transactions ----------------------------------------------------------------------------
    def _check_reference(self, body: dict[str, Any]) -> str:
        reference = str(body.get("reference") or "")
        if not reference:
            raise StripeError(400, "Missing required param: reference.", param="reference")
        if any(t["reference"] == reference for t in self.tax_transactions.values()):
            raise StripeError(
                400,
                f"A transaction with the reference '{reference}' already exists.",
                param="reference",
            )
        return reference

    def create_tax_transaction(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        calculation_id = str(body.get("calculation") or "")
        if not calculation_id:
            raise StripeError(400, "Missing required param: calculation.", param="calculation")
        if calculation_id not in self.tax_calculations:
            raise StripeError(
                404, f"No such tax calculation: '{calculation_id}'", param="calculation"
            )
        reference = self._check_reference(body)
        calculation = self.tax_calculations[calculation_id]
        now = int(time.time())
        transaction = {
            "id": _new_id("tax"),
            "object": "tax.transaction",
            "created": now,
            "currency": calculation["currency"],
            "customer": None,
            "customer_details": calculation["customer_details"],
            "line_items": None,
            "livemode": False,
            "metadata": dict(_dict(body.get("metadata"))),
            "posted_at": now,
            "reference": reference,
            "reversal": None,
            "ship_from_details": None,
            "shipping_cost": calculation["shipping_cost"],
            "tax_date": calculation["tax_date"],
            "type": "transaction",
            # The fake's own bookkeeping: what is left to reverse (tax included).
            "_calculation": calculation_id,
            "_reversible": calculation["amount_total"],
        }
        self.tax_transactions[transaction["id"]] = transaction
        return self._public(transaction)

    def create_tax_reversal(self, request: "RecordedRequest") -> dict[str, Any]:
        body = request.body
        original_id = str(body.get("original_transaction") or "")
        original = self.tax_transactions.get(original_id)
        if original is None or original["type"] != "transaction":
            raise StripeError(
                404, f"No such tax transaction: '{original_id}'", param="original_transaction"
            )
        mode = body.get("mode")
        if mode not in ("full", "partial"):
            raise StripeError(400, "Invalid mode: must be full or partial.", param="mode")
        reversible = original["_reversible"]
        if mode == "full":
            if reversible != self.tax_calculations[original["_calculation"]]["amount_total"]:
                raise StripeError(
                    400,
                    "A transaction with partial reversals cannot be fully reversed.",
                    param="mode",
                )
            amount = reversible
        else:
            if "flat_amount" not in body and "line_items" not in body:
                raise StripeError(
                    400, "A partial reversal needs flat_amount or line_items.", param="mode"
                )
            amount = -_integer(body.get("flat_amount", "0"), "flat_amount", minimum=-(10**12))
            if amount <= 0:
                raise StripeError(400, "flat_amount must be negative.", param="flat_amount")
        if amount > reversible:
            raise StripeError(
                400,
                "The amount to reverse exceeds what is left of the transaction.",
                param="flat_amount",
            )
        reference = self._check_reference(body)
        original["_reversible"] = reversible - amount
        now = int(time.time())
        reversal = {
            **{k: v for k, v in original.items() if not k.startswith("_")},
            "id": _new_id("tax"),
            "created": now,
            "posted_at": now,
            "metadata": dict(_dict(body.get("metadata"))),
            "reference": reference,
            "reversal": {"original_transaction": original_id},
            "type": "reversal",
            "_reversed": amount,
        }
        self.tax_transactions[reversal["id"]] = reversal
        return self._public(reversal)

    def get_tax_transaction(self, request: "RecordedRequest", id: str) -> dict[str, Any]:
        if id not in self.tax_transactions:
            raise StripeError(404, f"No such tax transaction: '{id}'", param="id")
        return self._public(self.tax_transactions[id])

    @staticmethod
    def _public(transaction: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in transaction.items() if not k.startswith("_")}
