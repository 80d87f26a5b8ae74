"""Every address of the shop's pages and their JSON endpoints. Each group keeps the URL
namespace its pages are known by (`catalog:item`, `orders:detail`, `payments:buy`); every path
answers with and without its trailing slash (kassa.common.routes)."""

from django.conf import settings
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path, re_path

from kassa.common.routes import route
from kassa.storefront.views import (
    account,
    card,
    catalog,
    checkout,
    health,
    invoices,
    media,
    orders,
    products,
    recovery,
    returns,
    seo,
    stripe_webhook,
)

catalog_urls = [
    path("", catalog.catalog, name="catalog"),
    *route("item/<id:item_id>", catalog.item_detail, "item"),
    *route("products/<slug:handle>", products.product_detail, "product"),
    *route("collections/<slug:handle>", products.collection_detail, "collection"),
]

order_urls = [
    *route("item/<id:item_id>/add-to-order", orders.add_to_order, "add"),
    *route("orders", orders.order_list, "list"),
    *route("orders/<id:order_id>", orders.order_detail, "detail"),
    *route("orders/<id:order_id>/invoice.pdf", invoices.order_invoice, "invoice"),
    *route(
        "orders/<id:order_id>/credit-notes/<id:note_id>.pdf",
        invoices.order_credit_note,
        "credit-note",
    ),
    *route("orders/<id:order_id>/lines/<id:line_id>", orders.order_line_update, "line"),
    *route("orders/<id:order_id>/discount", orders.order_discount, "discount"),
    # The customer's signed link from their mail: the order from any device.
    *route("orders/view/<signed:token>", orders.order_signed, "signed"),
    *route(
        "orders/view/<signed:token>/invoice.pdf", invoices.signed_order_invoice, "signed-invoice"
    ),
    *route("cart/recover/<signed:token>", recovery.recover, "recover"),
    *route("cart/recover/<signed:token>/unsubscribe", recovery.unsubscribe, "recover-unsubscribe"),
    *route("orders/<id:order_id>/return", returns.order_return, "return"),
    *route("orders/view/<signed:token>/return", returns.order_signed_return, "signed-return"),
]

customer_urls = [
    *route("account", account.account, "account"),
    *route("account/sign-in", account.sign_in, "sign-in"),
    *route("account/sign-in/code", account.sign_in_code, "code"),
    *route("account/sign-in/link/<secret:token>", account.sign_in_with_link, "link"),
    *route("account/logout", account.sign_out, "logout"),
    *route("account/data", account.personal_data, "data"),
    *route("account/delete", account.delete_account, "delete"),
    *route("account/addresses/<id:address_id>", account.edit_address, "address"),
    *route("account/addresses/<id:address_id>/remove", account.remove_address, "remove-address"),
]

payment_urls = [
    # GET /buy/<id> is the spec's own address; /item/<id>/buy/ says the same in the shop's terms.
    *route("buy/<id:item_id>", checkout.buy_item_view, "buy"),
    *route("item/<id:item_id>/buy", checkout.buy_item_view, "item-buy"),
    *route("orders/<id:order_id>/buy", checkout.buy_order_view, "order-buy"),
    *route("orders/<id:order_id>/reopen", checkout.reopen_order_view, "reopen"),
    # The PaymentIntent flow: a page with Stripe's Payment Element, and the JSON it calls.
    *route("item/<id:item_id>/pay", card.item_pay_page, "item-pay"),
    *route("orders/<id:order_id>/pay", card.order_pay_page, "order-pay"),
    *route("item/<id:item_id>/payment-intent", card.item_payment_intent, "item-payment-intent"),
    *route(
        "orders/<id:order_id>/payment-intent", card.order_payment_intent, "order-payment-intent"
    ),
    *route(
        "orders/<id:order_id>/payment-details", card.order_payment_details, "order-payment-details"
    ),
    *route("checkout/success", checkout.success, "success"),
    *route("checkout/cancel", checkout.cancel, "cancel"),
    *route("stripe/webhook", stripe_webhook.stripe_webhook, "webhook"),
]

common_urls = [re_path(r"^healthz/?$", health.healthz, name="healthz")]

seo_urls = [
    path("robots.txt", seo.robots_txt, name="robots"),
    path("sitemap.xml", sitemap_views.sitemap, {"sitemaps": seo.SITEMAPS}, name="sitemap"),
]
# Uploaded images on local disk are served by the app; from a bucket, browsers fetch them there.
if settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
    common_urls.append(
        re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", media.serve, name="media")
    )

# Tried in order: the catalog's pages, the most visited, come first.
urlpatterns = [
    path("", include((catalog_urls, "catalog"))),
    path("", include((seo_urls, "seo"))),
    path("", include((common_urls, "common"))),
    path("", include((payment_urls, "payments"))),
    path("", include((order_urls, "orders"))),
    path("", include((customer_urls, "customers"))),
]
