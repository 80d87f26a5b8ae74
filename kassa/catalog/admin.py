from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kassa.catalog.models import Item
from kassa.common.admin_money import show_in_currency
from kassa.common.money import format_amount


class ItemAdminForm(forms.ModelForm[Item]):
    class Meta:
        model = Item
        fields = ["name", "description", "price", "currency"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        show_in_currency(self, self.instance.currency, "price")


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    form = ItemAdminForm
    list_display = ["name", "display_price", "currency", "updated_at"]
    list_filter = ["currency"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("price"), ordering="price")
    def display_price(self, obj: Item) -> str:
        return format_amount(obj.price, obj.currency)
