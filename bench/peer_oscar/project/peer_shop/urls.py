"""Oscar's URLs as its "Building your own shop" page includes them (without the Django admin),
plus the bench's trivial view."""

from django.apps import apps
from django.urls import include, path

from peer_shop import views

urlpatterns = [
    path("bench/trivial/", views.trivial),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
