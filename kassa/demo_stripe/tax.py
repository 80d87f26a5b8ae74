"""Stripe Tax for demo payments: an account with no tax registrations, where Stripe Tax
computes no tax (as it does wherever a shop has none), so the card page's calculations,
transactions and reversals are answered in Stripe's shapes with a tax of nothing."""

import time
from typing import Any

from kassa.demo_stripe.store import StripeError, load, new_id, save


def _amount(value: Any, param: str) -> int:
    text = str(value if value is not None else "")
    if not text.isdigit():
        raise StripeError(400, "Invalid integer.", param=param)
    return int(text)


def create_calculation(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    currency = str(body.get("currency") or "")
    items = body.get("line_items")
    if not currency or not isinstance(items, list) or not items:
        raise StripeError(400, "Missing required param: line_items.", param="line_items")
    lines: list[dict[str, Any]] = [
        {
            "id": new_id("tax_li"),
            "object": "tax.calculation_line_item",
            "amount": _amount(item.get("amount"), f"line_items[{index}][amount]"),
            "amount_tax": 0,
            "livemode": False,
            "quantity": int(item.get("quantity") or 1),
            "reference": item.get("reference") or f"line_item_{index}",
            "tax_behavior": item.get("tax_behavior") or "exclusive",
            "tax_code": item.get("tax_code") or "txcd_99999999",
        }
        for index, item in enumerate(items)
    ]
    shipping = body.get("shipping_cost") or {}
    shipping_cost: dict[str, Any] | None = (
        {
            "amount": _amount(shipping.get("amount"), "shipping_cost[amount]"),
            "amount_tax": 0,
            "tax_behavior": shipping.get("tax_behavior") or "exclusive",
            "tax_code": shipping.get("tax_code") or "txcd_92010001",
        }
        if shipping
        else None
    )
    now = int(time.time())
    calculation = {
        "id": new_id("taxcalc"),
        "object": "tax.calculation",
        "amount_total": sum(line["amount"] for line in lines)
        + (shipping_cost["amount"] if shipping_cost else 0),
        "currency": currency,
        "customer_details": body.get("customer_details") or {},
        "expires_at": now + 90 * 24 * 3600,
        "line_items": None,
        "livemode": False,
        "shipping_cost": shipping_cost,
        "tax_amount_exclusive": 0,
        "tax_amount_inclusive": 0,
        "tax_breakdown": [],
        "tax_date": now,
        "_lines": lines,
    }
    return _public(save("tax_calculation", calculation))


def get_calculation(body: dict[str, Any], params: dict[str, str], id: str) -> dict[str, Any]:
    return _public(load("tax_calculation", id))


def list_calculation_lines(body: dict[str, Any], params: dict[str, str], id: str) -> dict[str, Any]:
    lines = load("tax_calculation", id)["_lines"]
    url = f"/v1/tax/calculations/{id}/line_items"
    return {"object": "list", "data": lines, "has_more": False, "url": url}


def _transaction(body: dict[str, Any], *, kind: str) -> dict[str, Any]:
    reference = str(body.get("reference") or "")
    if not reference:
        raise StripeError(400, "Missing required param: reference.", param="reference")
    now = int(time.time())
    return {
        "id": new_id("tax"),
        "object": "tax.transaction",
        "created": now,
        "posted_at": now,
        "livemode": False,
        "metadata": body.get("metadata") or {},
        "reference": reference,
        "type": kind,
    }


def create_transaction(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    calculation = load("tax_calculation", str(body.get("calculation") or ""))
    made = _transaction(body, kind="transaction")
    made |= {"currency": calculation["currency"], "reversal": None}
    return save("tax_transaction", made)


def create_reversal(body: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    original = load("tax_transaction", str(body.get("original_transaction") or ""))
    if body.get("mode") not in ("full", "partial"):
        raise StripeError(400, "Invalid mode: must be full or partial.", param="mode")
    made = _transaction(body, kind="reversal")
    made |= {"currency": original["currency"], "reversal": {"original_transaction": original["id"]}}
    return save("tax_transaction", made)


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_")}
