"""What an invoice or credit note says, frozen when it is issued: plain JSON (amounts in minor
units), so the document reads the same however the shop's settings or catalog change later."""

from typing import Any

from django.conf import settings
from django.utils import timezone

from kassa.common.identity import identity
from kassa.orders.models import Order
from kassa.orders.models.adjustments import percent
from kassa.orders.pricing import Totals, discount_in_effect, order_totals


def seller() -> dict[str, Any]:
    """The shop as its invoices name it (SHOP_LEGAL_NAME, SHOP_LEGAL_ADDRESS, SHOP_TAX_ID); the
    name and address the owner gave the shop where no legal ones are set."""
    shop = identity()
    address = list(settings.SHOP_LEGAL_ADDRESS) or [
        line.strip() for line in shop.contact_address.splitlines() if line.strip()
    ]
    return {
        "name": settings.SHOP_LEGAL_NAME or shop.name,
        "address": address,
        "tax_id": settings.SHOP_TAX_ID,
    }


def buyer(order: Order) -> dict[str, Any]:
    """Who paid, as Stripe reported them; a business buyer's company and tax id if given."""
    return {
        "name": order.customer_name or order.shipping_name,
        "email": order.email,
        "company": order.buyer_company,
        "tax_id": order.buyer_tax_id,
        "address": order.shipping_address_lines,
    }


def _taxes(order: Order, totals: Totals) -> list[dict[str, Any]]:
    """Tax per rate: what Stripe Tax computed (recorded on the order when it was paid), or the
    staff's rate."""
    if order.tax_computed_by_stripe:
        return [
            {
                "name": part["name"],
                "rate": part["rate"],
                "amount": part["amount"],
                "inclusive": part["inclusive"],
            }
            for part in order.tax_breakdown
        ]
    if order.tax is None or not totals.tax:
        return []
    return [
        {
            "name": order.tax.name,
            "rate": percent(order.tax.percentage),
            "amount": totals.tax,
            "inclusive": totals.tax_inclusive,
        }
    ]


def invoice_contents(order: Order) -> dict[str, Any]:
    lines = list(order.lines.select_related("item"))
    totals = order_totals(order, lines)
    discount = discount_in_effect(order)
    paid_at = order.paid_at or timezone.now()
    return {
        "order": order.pk,
        "language": order.language or settings.LANGUAGE_CODE,
        "currency": order.currency,
        "seller": seller(),
        "buyer": buyer(order),
        "lines": [
            {
                "name": line.line.item.name,
                "quantity": line.line.quantity,
                "unit": line.unit_amount,
                "amount": line.amount,
            }
            for line in totals.lines
        ],
        "subtotal": totals.subtotal,
        "discount": totals.discount,
        "discount_name": discount.name if discount and totals.discount else "",
        "taxes": _taxes(order, totals),
        "shipping": order.shipping_amount,
        "shipping_method": order.shipping_method,
        # What was charged, as Stripe reported it: the document's total.
        "total": order.amount_paid if order.amount_paid is not None else totals.total,
        "paid_at": paid_at.isoformat(),
    }


def credit_note_contents(order: Order, *, invoice: Any, credited: int) -> dict[str, Any]:
    return {
        "order": order.pk,
        "language": order.language or settings.LANGUAGE_CODE,
        "currency": order.currency,
        "seller": seller(),
        "buyer": invoice.data.get("buyer") or buyer(order),
        "refers_to": invoice.number,
        "invoice_total": invoice.amount,
        "credited": credited,
        "refunded_total": order.amount_refunded,
        "paid_at": invoice.data.get("paid_at", ""),
    }
