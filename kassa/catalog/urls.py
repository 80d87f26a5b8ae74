from django.urls import path

from kassa.catalog import views
from kassa.common.routes import route

app_name = "catalog"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    *route("item/<id:item_id>", views.item_detail, "item"),
]
