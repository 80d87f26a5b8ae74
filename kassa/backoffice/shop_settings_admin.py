"""The owner's "Shop settings": one row, edited in place (kassa.common.identity reads it)."""

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from kassa.common.identity import SETTINGS_ID, identity
from kassa.common.models import ShopSettings


class ShopSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        required=False, help_text=ShopSettings._meta.get_field("time_zone").help_text
    )
    languages = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=ShopSettings._meta.get_field("languages").help_text,
    )

    class Meta:
        model = ShopSettings
        fields = [
            "name",
            "logo",
            "contact_email",
            "contact_address",
            "footer_text",
            "time_zone",
            "languages",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default_zone = f"(the setting: {settings.TIME_ZONE})"
        zones = self.fields["time_zone"]
        languages = self.fields["languages"]
        assert isinstance(zones, forms.ChoiceField)
        assert isinstance(languages, forms.ChoiceField)
        zones.choices = [("", default_zone)] + [
            (name, name) for name in sorted(zoneinfo.available_timezones())
        ]
        languages.choices = list(settings.LANGUAGES)
        if self.instance.languages:
            self.initial["languages"] = self.instance.languages.split(",")
        # What a blank field means: the environment's value, shown as the placeholder.
        for name, value in (
            ("name", settings.SHOP_NAME),
            ("contact_email", settings.SHOP_CONTACT_EMAIL),
            ("footer_text", settings.SHOP_FOOTER_TEXT),
            ("contact_address", settings.SHOP_CONTACT_ADDRESS),
        ):
            if value:
                self.fields[name].widget.attrs["placeholder"] = value

    def clean_languages(self) -> str:
        return ",".join(self.cleaned_data["languages"])


class ShopSettingsAdmin(admin.ModelAdmin[ShopSettings]):
    form = ShopSettingsForm
    readonly_fields = ["in_use"]

    fields = [*ShopSettingsForm.Meta.fields, "in_use"]

    @admin.display(description="in use now")
    def in_use(self, obj: ShopSettings) -> str:
        shop = identity()
        return (
            f"{shop.name} · {shop.contact_email or 'no contact e-mail'} · {shop.time_zone} · "
            f"{', '.join(shop.languages)}"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ShopSettings | None = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """There is one row: the list is its page (made on first visit, every field blank)."""
        ShopSettings.objects.get_or_create(pk=SETTINGS_ID)
        return HttpResponseRedirect(reverse("admin:common_shopsettings_change", args=[SETTINGS_ID]))
