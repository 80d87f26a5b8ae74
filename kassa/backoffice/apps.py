from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "kassa.backoffice"
    # The label the app's tables, migrations and permissions were made under ("dashboard"):
    # kept, so nothing in the database changes with the package's name.
    label = "dashboard"
    verbose_name = _("Sales")

    def ready(self) -> None:
        from django.contrib import admin

        from kassa.backoffice.admin import superusers_only_for_internals

        superusers_only_for_internals(admin.site)
