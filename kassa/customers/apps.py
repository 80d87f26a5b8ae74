from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kassa.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kassa.customers import receivers

        receivers.connect()
