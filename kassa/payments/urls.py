from kassa.common.routes import route
from kassa.payments import intent_views, views

app_name = "payments"

urlpatterns = [
    # GET /buy/<id> is the spec's own address; /item/<id>/buy/ says the same in the shop's terms.
    *route("buy/<id:item_id>", views.buy_item_view, "buy"),
    *route("item/<id:item_id>/buy", views.buy_item_view, "item-buy"),
    *route("orders/<id:order_id>/buy", views.buy_order_view, "order-buy"),
    *route("orders/<id:order_id>/reopen", views.reopen_order_view, "reopen"),
    # The PaymentIntent flow: a page with Stripe's Payment Element, and the JSON it calls.
    *route("item/<id:item_id>/pay", intent_views.item_pay_page, "item-pay"),
    *route("orders/<id:order_id>/pay", intent_views.order_pay_page, "order-pay"),
    *route(
        "item/<id:item_id>/payment-intent", intent_views.item_payment_intent, "item-payment-intent"
    ),
    *route(
        "orders/<id:order_id>/payment-intent",
        intent_views.order_payment_intent,
        "order-payment-intent",
    ),
    *route(
        "orders/<id:order_id>/payment-details",
        intent_views.order_payment_details,
        "order-payment-details",
    ),
    *route("checkout/success", views.success, "success"),
    *route("checkout/cancel", views.cancel, "cancel"),
    *route("stripe/webhook", views.stripe_webhook, "webhook"),
]
