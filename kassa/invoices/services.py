"""Issuing invoices and credit notes: a number from the series' counter, taken under its row
lock in the transaction that records the payment (or refund), and the document's contents
frozen beside it.

Called from the order lifecycle's signals, inside the transaction that marks the order paid or
refunded: the number exists exactly when the payment does, so a rolled-back payment gives its
number back and two payments at once queue on the counter's row, never sharing or skipping a
number.
"""

from django.db import transaction
from django.utils import timezone

from kassa.invoices.contents import credit_note_contents, invoice_contents
from kassa.invoices.models import Invoice, InvoiceCounter
from kassa.orders.models import Order

Kind = Invoice.Kind
_PREFIX = {Kind.INVOICE: "", Kind.CREDIT_NOTE: "CN-"}


def _next_number(*, kind: str, year: int) -> tuple[str, int, str]:
    """The series, the next sequence in it and the printed number, e.g. 2026-000123."""
    series = f"{_PREFIX[Kind(kind)]}{year}"
    # Make the series' row if this is its first number; a concurrent first waits on the
    # insert and then finds it (PostgreSQL's ON CONFLICT DO NOTHING).
    InvoiceCounter.objects.bulk_create([InvoiceCounter(series=series)], ignore_conflicts=True)
    counter = InvoiceCounter.objects.select_for_update().get(series=series)
    counter.last += 1
    counter.save(update_fields=["last"])
    return series, counter.last, f"{series}-{counter.last:06d}"


def _year(order: Order) -> int:
    return timezone.localtime(order.paid_at or timezone.now()).year


@transaction.atomic
def invoice_issue(*, order_id: int) -> Invoice:
    """The order's invoice, numbered now if it has none (the order must be paid)."""
    order = Order.objects.select_for_update().get(pk=order_id)
    existing = Invoice.objects.filter(order=order, kind=Kind.INVOICE).first()
    if existing is not None:
        return existing
    if not order.is_paid:
        raise ValueError(f"Order #{order.pk} is not paid: it has no invoice.")
    series, sequence, number = _next_number(kind=Kind.INVOICE, year=_year(order))
    data = invoice_contents(order)
    return Invoice.objects.create(
        order=order,
        kind=Kind.INVOICE,
        series=series,
        sequence=sequence,
        number=number,
        issued_at=timezone.now(),
        currency=order.currency,
        amount=data["total"],
        data=data,
    )


@transaction.atomic
def credit_note_issue(*, order_id: int, refunded_total: int) -> Invoice | None:
    """A credit note for what a refund brought the order's refunded total to, referring to the
    order's invoice; None if this refund has one already or credits nothing new."""
    invoice = invoice_issue(order_id=order_id)
    order = invoice.order
    if Invoice.objects.filter(
        order=order, kind=Kind.CREDIT_NOTE, refunded_total=refunded_total
    ).exists():
        return None
    before = (
        Invoice.objects.filter(order=order, kind=Kind.CREDIT_NOTE)
        .order_by("-refunded_total")
        .values_list("refunded_total", flat=True)
        .first()
    ) or 0
    credited = refunded_total - before
    if credited <= 0:
        return None  # an older refund total, arriving late
    series, sequence, number = _next_number(kind=Kind.CREDIT_NOTE, year=timezone.localtime().year)
    return Invoice.objects.create(
        order=order,
        kind=Kind.CREDIT_NOTE,
        series=series,
        sequence=sequence,
        number=number,
        issued_at=timezone.now(),
        currency=order.currency,
        amount=credited,
        refers_to=invoice,
        refunded_total=refunded_total,
        data=credit_note_contents(order, invoice=invoice, credited=credited),
    )
