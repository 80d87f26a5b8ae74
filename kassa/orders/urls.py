from kassa.common.routes import route
from kassa.orders import views

app_name = "orders"

urlpatterns = [
    *route("item/<id:item_id>/add-to-order", views.add_to_order, "add"),
    *route("orders", views.order_list, "list"),
    *route("orders/<id:order_id>", views.order_detail, "detail"),
    *route("orders/<id:order_id>/lines/<id:line_id>", views.order_line_update, "line"),
    *route("orders/<id:order_id>/discount", views.order_discount, "discount"),
    # The customer's signed link from their mail: the order from any device.
    *route("orders/view/<signed:token>", views.order_signed, "signed"),
]
