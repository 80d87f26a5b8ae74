from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "kassa.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from kassa.orders import checkout_defaults, discount_rules

        checkout_defaults.connect()
        discount_rules.connect()
