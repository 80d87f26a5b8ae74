"""The admin, composed: each model registered exactly once, here, from the admin parts the
domain apps offer (their `admin` modules register nothing). Developer internals (kassa.backoffice.
roles.INTERNALS) are shown to superusers only, also those other packages register."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kassa.backoffice.carts_admin import CartAdmin
from kassa.backoffice.holds_admin import HeldStockAdmin
from kassa.backoffice.models import Cart
from kassa.backoffice.orders_admin import (
    DiscountAdmin,
    InvoiceAdmin,
    OrderAdmin,
    ShippingRateAdmin,
    TaxAdmin,
)
from kassa.backoffice.roles import is_internal
from kassa.backoffice.shop_settings_admin import ShopSettingsAdmin
from kassa.catalog.admin import CollectionAdmin, ItemAdmin, ProductAdmin
from kassa.catalog.models import Collection, Item, Product
from kassa.common.models import ShopSettings
from kassa.customers.admin import CustomerAdmin, ReturnRequestAdmin
from kassa.customers.models import Customer, ReturnRequest
from kassa.giftcards.admin import GiftCardAdmin
from kassa.giftcards.models import GiftCard
from kassa.integrations.admin import WebhookDeliveryAdmin, WebhookEndpointAdmin
from kassa.integrations.models import WebhookDelivery, WebhookEndpoint
from kassa.invoices.models import Invoice
from kassa.notifications.admin import MailAdmin, RecoveryOptOutAdmin
from kassa.notifications.models import Mail, RecoveryOptOut
from kassa.orders.admin import DiscountUseAdmin
from kassa.orders.models import Discount, DiscountUse, Order, Reservation, ShippingRate, Tax
from kassa.payments.admin import (
    PaymentAttemptAdmin,
    RefundAdmin,
    StripeCouponAdmin,
    StripeTaxRateAdmin,
    UnmatchedPaymentAdmin,
    WebhookEventAdmin,
)
from kassa.payments.models import (
    PaymentAttempt,
    Refund,
    StripeCoupon,
    StripeTaxRate,
    UnmatchedPayment,
    WebhookEvent,
)

# The catalog and the orders, as staff work with them.
admin.site.register(Product, ProductAdmin)
admin.site.register(Collection, CollectionAdmin)
admin.site.register(Item, ItemAdmin)
admin.site.register(Order, OrderAdmin)
admin.site.register(Cart, CartAdmin)
admin.site.register(Discount, DiscountAdmin)
admin.site.register(DiscountUse, DiscountUseAdmin)
admin.site.register(Tax, TaxAdmin)
admin.site.register(ShippingRate, ShippingRateAdmin)
admin.site.register(Mail, MailAdmin)
# Units held by payments not yet made, and a way to put them back on sale.
admin.site.register(Reservation, HeldStockAdmin)
admin.site.register(Invoice, InvoiceAdmin)
admin.site.register(RecoveryOptOut, RecoveryOptOutAdmin)
# Customers' accounts and the returns they asked for.
admin.site.register(ReturnRequest, ReturnRequestAdmin)
admin.site.register(Customer, CustomerAdmin)
# Gift cards: balances the shop owes, and every change of them.
admin.site.register(GiftCard, GiftCardAdmin)
# What moved money, and the records of what the shop made in Stripe.
admin.site.register(PaymentAttempt, PaymentAttemptAdmin)
admin.site.register(UnmatchedPayment, UnmatchedPaymentAdmin)
admin.site.register(Refund, RefundAdmin)
admin.site.register(WebhookEvent, WebhookEventAdmin)
admin.site.register(StripeCoupon, StripeCouponAdmin)
admin.site.register(StripeTaxRate, StripeTaxRateAdmin)


class SuperusersOnly:
    """An admin (or inline) nobody but a superuser sees or uses, whatever their permissions."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, *args)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, *args)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, *args)  # type: ignore[misc]


def superusers_only_for_internals(site: admin.AdminSite) -> None:
    """Every internal model's admin, whoever registered it, restricted to superusers. Called
    from the app's ready(), once the admin's autodiscovery registered every app's admin (the
    admin app's own ready() runs it, first in INSTALLED_APPS)."""
    for model, model_admin in list(site._registry.items()):
        if not is_internal(model._meta.app_label, model._meta.model_name or ""):
            continue
        if isinstance(model_admin, SuperusersOnly):
            continue
        site.unregister(model)
        restricted = type(
            f"SuperusersOnly{type(model_admin).__name__}",
            (SuperusersOnly, type(model_admin)),
            {},
        )
        site.register(model, restricted)


# Outgoing webhooks: where the shop sends its events, and what became of each.
admin.site.register(WebhookEndpoint, WebhookEndpointAdmin)
admin.site.register(WebhookDelivery, WebhookDeliveryAdmin)
# The shop's identity, set by its owner.
admin.site.register(ShopSettings, ShopSettingsAdmin)
