"""Orders in the admin as staff see them: the orders' own page with its refunds and payments
beside it, a summary of what was paid, refunded and is left to ship, and a refund page."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kassa.common.money import format_amount, from_minor
from kassa.invoices import admin as invoices_admin
from kassa.invoices.models import Invoice
from kassa.orders import admin as orders_admin
from kassa.orders.models import Order
from kassa.payments.admin import (
    PaidTwiceFilter,
    PaymentAttemptInline,
    RefundInline,
    RefundsFilter,
    StripeCouponInline,
    StripeShippingRateInline,
    StripeTaxRateInline,
    TaxTransactionInline,
    refund_in_stripe,
    with_paid_twice_flag,
)
from kassa.payments.models import Refund
from kassa.payments.refunds import refundable, returnable


def _money(minor: int, currency: str) -> str:
    return format_amount(from_minor(minor, currency), currency)


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
    inlines = [
        *orders_admin.OrderAdmin.inlines,
        RefundInline,
        PaymentAttemptInline,
        InvoiceInline,
        TaxTransactionInline,
    ]
    actions = [*orders_admin.OrderAdmin.actions, refund_in_stripe]
    search_fields = [*orders_admin.OrderAdmin.search_fields, "payment_attempts__stripe_id"]
    list_filter = [PaidTwiceFilter, RefundsFilter, *orders_admin.OrderAdmin.list_filter]
    # Eight columns fit a 1280 px screen beside the admin's sidebar and filters: the total
    # shows its currency, and what needs a look (oversold, paid twice, refunds) shares one.
    list_display = [
        "__str__",
        "status",
        "fulfilment_status",
        "email",
        "display_amount",
        "display_refunded",
        "needs_a_look",
        "created_at",
    ]
    readonly_fields = ["display_summary", *orders_admin.OrderAdmin.readonly_fields]
    change_form_template = "admin/orders/order/change_form.html"

    def get_fieldsets(self, request: HttpRequest, obj: Order | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        # What staff come for, first: paid, refunded, left to ship.
        return [(None, {"fields": ["display_summary"]}), *fieldsets]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return with_paid_twice_flag(super().get_queryset(request)).prefetch_related("refunds")

    def has_refund_permission(self, request: HttpRequest) -> bool:
        """Refunding is its own permission (adding a refund): the owner gives it to staff."""
        return request.user.has_perm("payments.add_refund")

    @admin.display(description=_("paid twice"), boolean=True, ordering="paid_twice_flag")
    def paid_twice(self, obj: Order) -> bool:
        # A second payment of the order waits in Unmatched payments for a refund.
        return bool(getattr(obj, "paid_twice_flag", False))

    @admin.display(description=_("amount"))
    def display_amount(self, obj: Order) -> str:
        """What was paid, once it was; until then what the order comes to."""
        if obj.amount_paid is not None:
            return _money(obj.amount_paid, obj.currency)
        return self.display_total(obj)

    @admin.display(description=_("refunded"))
    def display_refunded(self, obj: Order) -> str:
        return _money(obj.amount_refunded, obj.currency) if obj.amount_refunded else "-"

    @admin.display(description=_("needs a look"))
    def needs_a_look(self, obj: Order) -> str:
        notes = []
        if obj.oversold:
            notes.append(gettext("oversold"))
        if getattr(obj, "paid_twice_flag", False):
            notes.append(gettext("paid twice"))
        states = {refund.state for refund in obj.refunds.all()}
        if Refund.State.FAILED in states:
            notes.append(gettext("refund failed"))
        if states & {Refund.State.PENDING, Refund.State.REQUIRES_ACTION}:
            notes.append(gettext("refund waiting"))
        return ", ".join(notes) or "-"

    @admin.display(description=_("in short"))
    def display_summary(self, obj: Order) -> str:
        return format_html_join("", "<p>{}</p>", ((line,) for line in _summary(obj)))

    def get_urls(self) -> list[URLPattern]:
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name=self._refund_url_name,
        )
        return [refund, *super().get_urls()]

    @property
    def _refund_url_name(self) -> str:
        # Per model: the carts' admin (of a proxy of Order) is one of these too.
        return f"{self.opts.app_label}_{self.opts.model_name}_refund"

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The refund form for one order (the same as the list's action), from its page."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        order = get_object_or_404(self.get_queryset(request), pk=object_id)
        answer = refund_in_stripe(self, request, Order.objects.filter(pk=order.pk))
        if answer is not None:
            return answer
        change = f"admin:{self.opts.app_label}_{self.opts.model_name}_change"
        return HttpResponseRedirect(reverse(change, args=[order.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        order = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if order is not None and self.has_refund_permission(request) and refundable(order):
            context["refund_url"] = reverse(f"admin:{self._refund_url_name}", args=[order.pk])
        return super().change_view(request, object_id, form_url, context)


def _summary(order: Order) -> list[str]:
    """The order in a few plain sentences: what was paid, refunded (and what waits or failed at
    Stripe), and what is left to ship."""
    currency = order.currency
    if order.amount_paid is None:
        return [gettext("Not paid yet.")]
    lines = [gettext("Paid %(amount)s.") % {"amount": _money(order.amount_paid, currency)}]
    refunds = list(Refund.objects.filter(order=order))
    waiting = sum(
        r.amount for r in refunds if r.state in (Refund.State.PENDING, Refund.State.REQUIRES_ACTION)
    )
    failed = sum(r.amount for r in refunds if r.state == Refund.State.FAILED)
    refunded = gettext("Refunded %(amount)s") % {"amount": _money(order.amount_refunded, currency)}
    if waiting:
        refunded += gettext("; %(amount)s waiting at Stripe") % {
            "amount": _money(waiting, currency)
        }
    if failed:
        refunded += gettext("; %(amount)s failed (not refunded)") % {
            "amount": _money(failed, currency)
        }
    lines.append(refunded + ".")
    fulfilment = Order.Fulfilment
    if order.fulfilment_status == fulfilment.UNFULFILLED:
        left = returnable(order)  # units that came back before shipping are not shipped
        goods = ", ".join(
            f"{left[line.pk]} × {line.item.name}"
            for line in order.lines.select_related("item")
            if line.item.requires_shipping and left.get(line.pk)
        )
        lines.append(
            gettext("To ship: %(goods)s.") % {"goods": goods}
            if goods
            else gettext("Nothing to ship.")
        )
    elif order.fulfilment_status in (fulfilment.SHIPPED, fulfilment.DELIVERED):
        lines.append(
            gettext("Nothing left to ship (%(status)s).")
            % {"status": order.get_fulfilment_status_display()}
        )
    elif order.fulfilment_status == fulfilment.NOT_REQUIRED:
        lines.append(gettext("Nothing to ship."))
    return lines


class DiscountAdmin(orders_admin.DiscountAdmin):
    inlines = [StripeCouponInline]


class TaxAdmin(orders_admin.TaxAdmin):
    inlines = [StripeTaxRateInline]


class ShippingRateAdmin(orders_admin.ShippingRateAdmin):
    inlines = [StripeShippingRateInline]
