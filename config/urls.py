from django.contrib import admin
from django.urls import include, path

# Tried in order: the catalog's pages, the most visited, come first.
urlpatterns = [
    path("", include("kassa.catalog.urls")),
    path("admin/sales/", include("kassa.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kassa.common.urls")),
    path("", include("kassa.payments.urls")),
    path("", include("kassa.orders.urls")),
    path("", include("kassa.api.urls")),
]

# JSON endpoints and JSON clients get their 404 and 500 as JSON, everyone else the pages.
# Under /api/ in the API's shape (kassa.api.errors hands every other path to kassa.common.views).
handler400 = "kassa.api.errors.handler400"
handler403 = "kassa.api.errors.handler403"
handler404 = "kassa.api.errors.page_not_found"
handler500 = "kassa.api.errors.handler500"
