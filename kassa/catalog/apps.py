from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "kassa.catalog"
    label = "catalog"
    verbose_name = "Catalog"
