from django.conf import settings
from django.urls import re_path

from kassa.common import media, views

app_name = "common"

urlpatterns = [
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
]

# Uploaded images on local disk are served by the app; from a bucket, browsers fetch them there.
if settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
    urlpatterns.append(
        re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.+)$", media.serve, name="media")
    )
