from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "kassa.storefront"
    label = "storefront"
