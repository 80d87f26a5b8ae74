from django.urls import re_path

from kassa.orders import views

app_name = "orders"

urlpatterns = [
    re_path(r"^item/(?P<item_id>[^/]+)/add-to-order/?$", views.add_to_order, name="add"),
    re_path(r"^orders/?$", views.order_list, name="list"),
    re_path(r"^orders/(?P<order_id>[^/]+)/?$", views.order_detail, name="detail"),
    re_path(
        r"^orders/(?P<order_id>[^/]+)/lines/(?P<line_id>[^/]+)/?$",
        views.order_line_update,
        name="line",
    ),
    re_path(r"^orders/(?P<order_id>[^/]+)/discount/?$", views.order_discount, name="discount"),
]
