"""An order's invoice and credit notes as PDF: for the order's owner and for staff."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kassa.invoices.models import Invoice
from kassa.invoices.selectors import credit_note_for, document_pdf, invoice_for
from kassa.orders import selectors
from kassa.orders.links import order_from_token
from kassa.orders.models import Order
from kassa.storefront.visitors import order_for_request


def _order(request: HttpRequest, order_id: int) -> Order:
    """The order, if the asker owns it or is staff; a 404 otherwise (as if it did not exist)."""
    if request.user.is_authenticated and request.user.is_staff:
        return get_object_or_404(Order, pk=order_id)
    return order_for_request(request, order_id)


def _pdf(invoice: Invoice) -> HttpResponse:
    response = HttpResponse(document_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.filename}"'
    return response


@never_cache
@require_GET
def order_invoice(request: HttpRequest, order_id: int) -> HttpResponse:
    return _pdf(invoice_for(_order(request, order_id)))


@never_cache
@require_GET
def signed_order_invoice(request: HttpRequest, token: str) -> HttpResponse:
    """The invoice from the order's signed link (the confirmation mail's): any device."""
    order_id = order_from_token(token)
    if order_id is None:
        raise Http404("No such order.")
    return _pdf(invoice_for(selectors.order_by_link(order_id=order_id)))


@never_cache
@require_GET
def order_credit_note(request: HttpRequest, order_id: int, note_id: int) -> HttpResponse:
    return _pdf(credit_note_for(_order(request, order_id), note_id))
