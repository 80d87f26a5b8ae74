from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "kassa.common"
    label = "common"
