from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "kassa.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from kassa.catalog.signals import demo_catalog_loaded
        from kassa.orders import checkout_defaults, discount_rules
        from kassa.orders.demo import add_demo_shipping_rates

        checkout_defaults.connect()
        discount_rules.connect()
        demo_catalog_loaded.connect(add_demo_shipping_rates, dispatch_uid="demo-shipping-rates")
