"""Invoices in the admin (registered by kassa.backoffice.admin): read-only, as issued."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kassa.common.money import format_amount, from_minor
from kassa.invoices.models import Invoice


class InvoiceAdmin(admin.ModelAdmin[Invoice]):
    list_display = ["number", "kind", "order", "display_amount", "issued_at"]
    list_filter = ["kind", "series"]
    search_fields = ["number", "order__id", "order__email"]
    list_select_related = ["order"]
    fields = ("number", "kind", "order", "display_amount", "issued_at", "refers_to")
    readonly_fields = fields

    @admin.display(description=_("amount"))
    def display_amount(self, obj: Invoice) -> str:
        return format_amount(from_minor(obj.amount, obj.currency), obj.currency)

    # Issued documents are never edited or removed: a refund issues a credit note instead.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
