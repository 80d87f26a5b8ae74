from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "kassa.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from kassa.catalog import revision

        revision.connect()
