"""The admin, composed: each model registered exactly once, here, from the admin parts the
domain apps offer (their `admin` modules register nothing)."""

from django.contrib import admin

from kassa.backoffice.carts_admin import CartAdmin
from kassa.backoffice.models import Cart
from kassa.backoffice.orders_admin import DiscountAdmin, OrderAdmin, ShippingRateAdmin, TaxAdmin
from kassa.catalog.admin import CollectionAdmin, ItemAdmin, ProductAdmin
from kassa.catalog.models import Collection, Item, Product
from kassa.notifications.admin import MailAdmin
from kassa.notifications.models import Mail
from kassa.orders.models import Discount, Order, ShippingRate, Tax
from kassa.payments.admin import (
    PaymentAttemptAdmin,
    StripeCouponAdmin,
    StripeTaxRateAdmin,
    UnmatchedPaymentAdmin,
    WebhookEventAdmin,
)
from kassa.payments.models import (
    PaymentAttempt,
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
admin.site.register(Tax, TaxAdmin)
admin.site.register(ShippingRate, ShippingRateAdmin)
admin.site.register(Mail, MailAdmin)
# What moved money, and the records of what the shop made in Stripe.
admin.site.register(PaymentAttempt, PaymentAttemptAdmin)
admin.site.register(UnmatchedPayment, UnmatchedPaymentAdmin)
admin.site.register(WebhookEvent, WebhookEventAdmin)
admin.site.register(StripeCoupon, StripeCouponAdmin)
admin.site.register(StripeTaxRate, StripeTaxRateAdmin)
