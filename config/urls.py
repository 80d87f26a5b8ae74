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
]

# JSON endpoints and JSON clients get their 404 and 500 as JSON, everyone else the pages.
handler404 = "kassa.common.views.page_not_found"
handler500 = "kassa.common.views.server_error"
