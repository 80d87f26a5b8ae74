from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("kassa.common.urls")),
    path("", include("kassa.payments.urls")),
    path("", include("kassa.orders.urls")),
    path("", include("kassa.catalog.urls")),
]
