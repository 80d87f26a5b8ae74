from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "kassa.notifications"
    label = "notifications"
    verbose_name = _("Mail")

    def ready(self) -> None:
        from kassa.notifications import receivers

        receivers.connect()
