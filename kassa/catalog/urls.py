from django.urls import path, re_path

from kassa.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    re_path(r"^item/(?P<item_id>[^/]+)/?$", views.item_detail, name="item"),
]
