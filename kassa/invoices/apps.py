from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    name = "kassa.invoices"
    label = "invoices"
    verbose_name = _("Invoices")

    def ready(self) -> None:
        from kassa.invoices import receivers

        receivers.connect()
