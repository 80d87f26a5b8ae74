from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "kassa.common"
    label = "common"

    def ready(self) -> None:
        from kassa.common import identity  # noqa: F401 - forgets a changed identity on save
