from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kassa.orders.admin import DiscountAdmin, OrderAdmin, TaxAdmin
from kassa.orders.models import Order
from kassa.payments.errors import PaymentError
from kassa.payments.models import StripeCoupon, StripeTaxRate, WebhookEvent
from kassa.payments.refunds import refund_order


class _StripeRecordInline(admin.TabularInline[Any, Any]):
    """What the shop made in Stripe for a discount or tax: shown, never edited."""

    extra = 0
    can_delete = False
    fields = ["stripe_id", "version", "account", "created_at"]
    readonly_fields = ["stripe_id", "version", "account", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StripeCouponInline(_StripeRecordInline):
    model = StripeCoupon
    verbose_name_plural = _("Stripe coupons made for this discount (one per account and terms)")


class StripeTaxRateInline(_StripeRecordInline):
    model = StripeTaxRate
    verbose_name_plural = _("Stripe tax rates made for this tax (one per account and terms)")


@admin.action(description=_("Refund selected paid orders in Stripe"))
def refund_in_stripe(
    modeladmin: admin.ModelAdmin[Order], request: HttpRequest, queryset: QuerySet[Order]
) -> None:
    for order in queryset:
        try:
            refund = refund_order(order=order, requested_by=f"admin {request.user}")
        except PaymentError as exc:
            modeladmin.message_user(request, f"{order}: {exc.message}", messages.ERROR)
        else:
            modeladmin.message_user(
                request,
                _("%(order)s refunded (%(refund)s).") % {"order": order, "refund": refund.id},
            )


# Payments knows orders, not the other way round: it adds its Stripe parts to their admin pages.
DiscountAdmin.inlines = [*DiscountAdmin.inlines, StripeCouponInline]
TaxAdmin.inlines = [*TaxAdmin.inlines, StripeTaxRateInline]
admin.site.unregister(Order)


@admin.register(Order)
class OrderWithPaymentsAdmin(OrderAdmin):
    actions = [refund_in_stripe]


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Records of what exists in Stripe: made by the shop, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(StripeCoupon)
class StripeCouponAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "discount", "version", "account", "created_at"]
    list_filter = ["discount"]
    search_fields = ["stripe_id", "discount__name"]


@admin.register(StripeTaxRate)
class StripeTaxRateAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "tax", "version", "account", "created_at"]
    list_filter = ["tax"]
    search_fields = ["stripe_id", "tax__name"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "outcome", "attempts", "received_at", "handled_at"]
    list_filter = ["outcome", "type", "livemode"]
    search_fields = ["event_id", "type"]
    readonly_fields = [
        "event_id",
        "type",
        "livemode",
        "outcome",
        "attempts",
        "received_at",
        "handled_at",
        "error",
        "payload",
    ]
