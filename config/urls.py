from django.contrib import admin
from django.urls import include, path

# Tried in order: the catalog's pages, the most visited, come first.
urlpatterns = [
    path("", include("kassa.catalog.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kassa.common.urls")),
    path("", include("kassa.payments.urls")),
    path("", include("kassa.orders.urls")),
]
