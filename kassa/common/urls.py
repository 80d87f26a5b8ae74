from django.urls import re_path

from kassa.common import views

app_name = "common"

urlpatterns = [
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
]
