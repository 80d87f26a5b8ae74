from django.contrib import admin
from django.urls import include, path

# Tried in order: the storefront's pages, the most visited, come first.
urlpatterns = [
    path("", include("kassa.storefront.urls")),
    path("admin/sales/", include("kassa.backoffice.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # The stand-in for Stripe; every path answers 404 unless demo payments are on.
    path("demo-stripe/", include("kassa.demo_stripe.urls")),
    path("", include("kassa.api.urls")),
]

# The shop's own answers to what is refused before (or instead of) a view: JSON for JSON
# endpoints and JSON clients, and everything under /api/, the pages for everyone else.
handler400 = "kassa.storefront.errors.bad_request"
handler403 = "kassa.storefront.errors.permission_denied"
handler404 = "kassa.storefront.errors.page_not_found"
handler500 = "kassa.storefront.errors.server_error"
