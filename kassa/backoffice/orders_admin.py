"""Orders in the admin as staff see them: the orders' own page with its payments beside it."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

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
    refund_in_stripe,
    with_paid_twice_flag,
)


class OrderAdmin(orders_admin.OrderAdmin):
    inlines = [*orders_admin.OrderAdmin.inlines, RefundInline, PaymentAttemptInline]
    actions = [*orders_admin.OrderAdmin.actions, refund_in_stripe]
    search_fields = [*orders_admin.OrderAdmin.search_fields, "payment_attempts__stripe_id"]
    list_filter = [PaidTwiceFilter, RefundsFilter, *orders_admin.OrderAdmin.list_filter]
    list_display = [*orders_admin.OrderAdmin.list_display, "paid_twice"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return with_paid_twice_flag(super().get_queryset(request))

    def has_refund_permission(self, request: HttpRequest) -> bool:
        """Refunding is its own permission (adding a refund): the owner gives it to staff."""
        return request.user.has_perm("payments.add_refund")

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
