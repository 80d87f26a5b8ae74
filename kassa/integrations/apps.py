from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "kassa.integrations"
    label = "integrations"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from kassa.integrations import receivers, scrape
        from kassa.metrics.exposition import read_at_scrape

        receivers.connect()
        read_at_scrape(scrape.WebhookCollector())
