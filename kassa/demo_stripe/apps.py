from django.apps import AppConfig


class DemoStripeConfig(AppConfig):
    name = "kassa.demo_stripe"
    label = "demo_stripe"
    verbose_name = "Demo payments"

    def ready(self) -> None:
        from kassa.demo_stripe import checks  # noqa: F401 - registers the deploy check
