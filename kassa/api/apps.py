from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kassa.api"
    label = "kassa_api"
    verbose_name = "API"
