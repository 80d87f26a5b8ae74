"""Paid orders as CSV, one row per order line, for an accountant's spreadsheet."""

import csv
from collections.abc import Generator, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import cast

from django.db import transaction
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
# Lines read from the database at a time, through one server-side cursor on PostgreSQL.
CHUNK = 500


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_START) else value


def _amount(minor: int | None, currency: str) -> str:
    # Fixed-point, with the currency's own decimals: 12.30 USD, 1500 JPY, 4.500 KWD.
    return "" if minor is None else f"{from_minor(minor, currency):f}"


def paid_orders(*, start: date, end: date) -> Iterator[tuple[Order, list[OrderLine]]]:
    """Orders paid from the first day to the last (both included, days in the shop's time zone),
    oldest first, each with its lines (and their items, its discount and tax), read in one query
    a chunk of lines at a time: however long the range, neither memory nor the number of queries
    grows with it."""
    zone = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    lines = (
        OrderLine.objects.filter(
            order__status__in=PAID, order__paid_at__gte=since, order__paid_at__lt=until
        )
        .select_related("order", "order__discount", "order__tax", "item")
        .order_by("order__paid_at", "order_id", "id")
    )
    # In a transaction PostgreSQL's cursor hands out rows as it finds them, from a plan made
    # to start fast (orders by their paid_at index, then their lines); outside one, a cursor
    # must outlive its transaction and PostgreSQL reads the whole month before the first row.
    rows = cast(Generator[OrderLine], lines.iterator(chunk_size=CHUNK))
    with transaction.atomic():
        try:
            for _order_id, group in groupby(rows, key=lambda line: line.order_id):
                of_order = list(group)
                order = of_order[0].order
                for line in of_order:
                    line.order = order  # one instance for all, as a prefetch would give
                yield order, of_order
        finally:
            rows.close()  # the cursor closed inside its transaction, also when cut short


class _Echo:
    """A file that hands back what is written to it: csv.writer's rows as strings."""

    def write(self, text: str) -> str:
        return text


def csv_rows(*, start: date, end: date) -> Iterator[str]:
    """The paid orders of the days from `start` to `end` as CSV text, for a streamed response:
    the header with the first row as soon as the query gives it (the download starts), then a
    few hundred rows a piece."""
    writer = csv.writer(_Echo())
    piece = [writer.writerow(HEADER)]
    size = 2
    for row in _rows(start=start, end=end):
        piece.append(writer.writerow(row))
        if len(piece) >= size:
            yield "".join(piece)
            piece, size = [], CHUNK // 4
    if piece:
        yield "".join(piece)


def _rows(*, start: date, end: date) -> Iterable[list[object]]:
    zone = timezone.get_current_timezone()
    for order, lines in paid_orders(start=start, end=end):
        currency = order.currency
        assert order.paid_at is not None
        paid_at = timezone.localtime(order.paid_at, zone).isoformat()
        totals = order_totals(order, lines)
        for line in totals.lines:
            yield (
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
