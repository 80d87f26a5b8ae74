"""An order as the customer sees it: the JSON answer and the numbers the pages show."""

from typing import Any

from kassa.common.money import from_minor
from kassa.orders.models import Order
from kassa.orders.pricing import Totals, order_totals


def _amount(minor: int, currency: str) -> str:
    return str(from_minor(minor, currency))


def order_json(order: Order, totals: Totals | None = None) -> dict[str, Any]:
    totals = totals or order_totals(order)
    currency = order.currency
    return {
        "id": order.pk,
        "status": order.status,
        "currency": currency,
        "lines": [
            {
                "id": line.line.pk,
                "item_id": line.line.item_id,
                "name": line.line.item.name,
                "quantity": line.line.quantity,
                "unit_price": _amount(line.unit_amount, currency),
                "amount": _amount(line.amount, currency),
            }
            for line in totals.lines
        ],
        "item_count": totals.item_count,
        "subtotal": _amount(totals.subtotal, currency),
        "discount": _amount(totals.discount, currency),
        "discount_name": order.discount.name if totals.discount and order.discount else None,
        "tax": _amount(totals.tax, currency),
        "tax_name": order.tax.name if order.tax else None,
        "tax_inclusive": totals.tax_inclusive,
        "total": _amount(totals.total, currency),
        "url": order.get_absolute_url(),
    }
