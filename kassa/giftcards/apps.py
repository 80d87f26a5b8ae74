from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GiftCardsConfig(AppConfig):
    name = "kassa.giftcards"
    label = "giftcards"
    verbose_name = _("Gift cards")

    def ready(self) -> None:
        from kassa.giftcards import receivers

        receivers.connect()
