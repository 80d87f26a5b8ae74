from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kassa.orders.admin import DiscountAdmin, TaxAdmin
from kassa.orders.models import Discount, Tax
from kassa.payments.models import StripeCoupon, StripeTaxRate


class StripeCouponInline(admin.TabularInline[StripeCoupon, Discount]):
    model = StripeCoupon
    extra = 0
    can_delete = False
    fields = ["stripe_id", "version", "account", "created_at"]
    readonly_fields = ["stripe_id", "version", "account", "created_at"]
    verbose_name_plural = "Stripe coupons made for this discount (one per account and terms)"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StripeTaxRateInline(admin.TabularInline[StripeTaxRate, Tax]):
    model = StripeTaxRate
    extra = 0
    can_delete = False
    fields = ["stripe_id", "version", "account", "created_at"]
    readonly_fields = ["stripe_id", "version", "account", "created_at"]
    verbose_name_plural = "Stripe tax rates made for this tax (one per account and terms)"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# Payments knows orders, not the other way round: it adds its Stripe ids to their admin pages.
DiscountAdmin.inlines = [*DiscountAdmin.inlines, StripeCouponInline]
TaxAdmin.inlines = [*TaxAdmin.inlines, StripeTaxRateInline]


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
