"""Paid orders as CSV, one row per order line, for an accountant's spreadsheet."""

import csv
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import IO

from django.db.models import Prefetch
from django.utils import timezone

from kassa.backoffice.selectors import PAID
from kassa.common.money import from_minor
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals

HEADER = [
    "order",
    "paid_at",
    "status",
    "currency",
    "item_id",
    "item",
    "quantity",
    "unit_price",
    "line_subtotal",
    "line_discount",
    "line_tax",
    "tax_included",
    "order_amount_paid",
    "order_amount_refunded",
    # What the line came to (after its discount, with tax not already in its price); an order's
    # line totals and its shipping add up to what it paid, as the orders' CSV reports it.
    "line_total",
    "order_shipping",
    "shipping_method",
]
# A cell a spreadsheet would read as a formula (an item named "=HYPERLINK(...)") is written as
# text instead.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 500


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _amount(minor: int | None, currency: str) -> str:
    # Fixed-point, with the currency's own decimals: 12.30 USD, 1500 JPY, 4.500 KWD.
    return "" if minor is None else f"{from_minor(minor, currency):f}"


def paid_orders(*, start: date, end: date) -> Iterator[Order]:
    """Orders paid from the first day to the last (both included, days in the shop's time zone),
    oldest first, with their lines, items, discount and tax, read a chunk at a time."""
    zone = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    return (
        Order.objects.filter(status__in=PAID, paid_at__gte=since, paid_at__lt=until)
        .select_related("discount", "tax")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("item")))
        .order_by("paid_at", "pk")
        .iterator(chunk_size=CHUNK)
    )


def write_csv(out: IO[str], *, start: date, end: date) -> int:
    """Write the paid orders of the days from `start` to `end` to `out`; returns the rows."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    zone = timezone.get_current_timezone()
    rows = 0
    for order in paid_orders(start=start, end=end):
        currency = order.currency
        assert order.paid_at is not None
        paid_at = timezone.localtime(order.paid_at, zone).isoformat()
        totals = order_totals(order, list(order.lines.all()))
        for line in totals.lines:
            writer.writerow(
                [
                    order.pk,
                    paid_at,
                    order.status,
                    currency.upper(),
                    line.line.item_id,
                    _text(line.line.item.name),
                    line.line.quantity,
                    _amount(line.unit_amount, currency),
                    _amount(line.amount, currency),
                    _amount(line.discount, currency),
                    _amount(line.tax, currency),
                    "yes" if totals.tax_inclusive else "no",
                    _amount(order.amount_paid, currency),
                    _amount(order.amount_refunded, currency),
                    _amount(
                        line.amount - line.discount + (0 if totals.tax_inclusive else line.tax),
                        currency,
                    ),
                    _amount(order.shipping_amount, currency),
                    _text(order.shipping_method),
                ]
            )
            rows += 1
    return rows
