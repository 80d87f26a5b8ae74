"""Orders in the admin as staff see them: the orders' own page with its payments beside it."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kassa.invoices import admin as invoices_admin
from kassa.invoices.models import Invoice
from kassa.orders import admin as orders_admin
from kassa.orders.models import Order
from kassa.payments.admin import (
    PaidTwiceFilter,
    PaymentAttemptInline,
    StripeCouponInline,
    StripeShippingRateInline,
    StripeTaxRateInline,
    refund_in_stripe,
    with_paid_twice_flag,
)


class InvoiceInline(admin.TabularInline[Invoice, Order]):
    """The order's invoice and credit notes, each with its PDF."""

    model = Invoice
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ("number", "kind", "issued_at", "pdf")
    readonly_fields = fields
    verbose_name_plural = _("invoice and credit notes")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("PDF"))
    def pdf(self, obj: Invoice) -> str:
        if obj.is_credit_note:
            url = reverse("orders:credit-note", args=[obj.order_id, obj.pk])
        else:
            url = reverse("orders:invoice", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.filename)


class InvoiceAdmin(invoices_admin.InvoiceAdmin):
    list_display = [*invoices_admin.InvoiceAdmin.list_display, "pdf"]
    pdf = InvoiceInline.pdf


class OrderAdmin(orders_admin.OrderAdmin):
    inlines = [*orders_admin.OrderAdmin.inlines, PaymentAttemptInline, InvoiceInline]
    actions = [*orders_admin.OrderAdmin.actions, refund_in_stripe]
    search_fields = [*orders_admin.OrderAdmin.search_fields, "payment_attempts__stripe_id"]
    list_filter = [PaidTwiceFilter, *orders_admin.OrderAdmin.list_filter]
    list_display = [*orders_admin.OrderAdmin.list_display, "paid_twice"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return with_paid_twice_flag(super().get_queryset(request))

    @admin.display(description=_("paid twice"), boolean=True, ordering="paid_twice_flag")
    def paid_twice(self, obj: Order) -> bool:
        # A second payment of the order waits in Unmatched payments for a refund.
        return bool(getattr(obj, "paid_twice_flag", False))


class DiscountAdmin(orders_admin.DiscountAdmin):
    inlines = [StripeCouponInline]


class TaxAdmin(orders_admin.TaxAdmin):
    inlines = [StripeTaxRateInline]


class ShippingRateAdmin(orders_admin.ShippingRateAdmin):
    inlines = [StripeShippingRateInline]
