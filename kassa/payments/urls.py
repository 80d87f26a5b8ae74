from django.urls import path, re_path

from kassa.payments import views

app_name = "payments"

urlpatterns = [
    re_path(r"^buy/(?P<item_id>[^/]+)/?$", views.buy_item_view, name="buy"),
    re_path(r"^item/(?P<item_id>[^/]+)/buy/?$", views.buy_item_view, name="item-buy"),
    re_path(r"^orders/(?P<order_id>[^/]+)/buy/?$", views.buy_order_view, name="order-buy"),
    re_path(r"^orders/(?P<order_id>[^/]+)/reopen/?$", views.reopen_order_view, name="reopen"),
    path("checkout/success/", views.success, name="success"),
    path("checkout/cancel/", views.cancel, name="cancel"),
]
