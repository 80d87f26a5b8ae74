"""The shop's own URLs plus two yardsticks that exist only under config.settings_bench."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as shop_urlpatterns

urlpatterns = [
    path("bench/trivial/", views.trivial),
    path("bench/stripe-call/", views.stripe_call),
    *shop_urlpatterns,
]
