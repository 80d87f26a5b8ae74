from django.urls import path, re_path

from kassa.demo_stripe import views

app_name = "demo_stripe"

# Stripe's ids: letters, digits and underscores.
ID = r"[A-Za-z0-9_]{1,120}"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    re_path(rf"^checkout/(?P<session_id>{ID})/$", views.checkout, name="checkout"),
    re_path(rf"^checkout/(?P<session_id>{ID})/settle/$", views.settle, name="settle"),
    re_path(rf"^events/(?P<event_id>{ID})/resend/$", views.resend, name="resend"),
    path("js/confirm/", views.confirm, name="confirm"),
    re_path(r"^(?P<path>v1/.*)$", views.stripe_api, name="api"),
]
