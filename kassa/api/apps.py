from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kassa.api"
    label = "kassa_api"
    verbose_name = "API"

    def ready(self) -> None:
        from kassa.api import webhooks

        # Outgoing webhooks carry the objects in the API's shapes.
        webhooks.connect()
