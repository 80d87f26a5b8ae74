from kassa.common.routes import route
from kassa.payments import views

app_name = "payments"

urlpatterns = [
    # GET /buy/<id> is the spec's own address; /item/<id>/buy/ says the same in the shop's terms.
    *route("buy/<str:item_id>", views.buy_item_view, "buy"),
    *route("item/<str:item_id>/buy", views.buy_item_view, "item-buy"),
    *route("orders/<str:order_id>/buy", views.buy_order_view, "order-buy"),
    *route("orders/<str:order_id>/reopen", views.reopen_order_view, "reopen"),
    *route("checkout/success", views.success, "success"),
    *route("checkout/cancel", views.cancel, "cancel"),
    *route("stripe/webhook", views.stripe_webhook, "webhook"),
]
