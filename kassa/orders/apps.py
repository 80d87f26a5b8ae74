from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "kassa.orders"
    label = "orders"
    verbose_name = "Orders"
