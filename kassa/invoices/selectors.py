"""Reading invoices: an order's documents, and one as its PDF."""

from django.http import Http404
from django.utils import translation

from kassa.invoices import pdf
from kassa.invoices.models import Invoice
from kassa.invoices.services import invoice_issue
from kassa.orders.models import Order
from kassa.payments.methods import method_for
from kassa.payments.models import PaymentAttempt


def invoice_for(order: Order) -> Invoice:
    """The paid order's invoice (issued now if issuing it at payment failed); a 404 for an
    order that is not paid."""
    if not order.is_paid:
        raise Http404("The order is not paid: it has no invoice.")
    return invoice_issue(order_id=order.pk)


def credit_notes(order: Order) -> list[Invoice]:
    return list(order.invoices.filter(kind=Invoice.Kind.CREDIT_NOTE).order_by("sequence"))


def credit_note_for(order: Order, note_id: int) -> Invoice:
    note = order.invoices.filter(kind=Invoice.Kind.CREDIT_NOTE, pk=note_id).first()
    if note is None:
        raise Http404("No such credit note.")
    return note


def payment_description(order_id: int, language: str) -> str:
    """How the order was paid, in `language` ("Stripe Checkout")."""
    kind = (
        PaymentAttempt.objects.filter(order_id=order_id, state=PaymentAttempt.State.PAID)
        .values_list("kind", flat=True)
        .first()
    )
    if kind is None:
        return ""
    with translation.override(language):
        return str(method_for(kind).payment_description)


def document_pdf(invoice: Invoice) -> bytes:
    language = invoice.data.get("language") or "en"
    method = "" if invoice.is_credit_note else payment_description(invoice.order_id, language)
    return pdf.render(invoice, payment_method=method)
