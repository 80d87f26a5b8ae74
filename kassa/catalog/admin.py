from django.contrib import admin

from kassa.catalog.models import Item
from kassa.common.money import format_amount


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin[Item]):
    list_display = ["name", "display_price", "currency", "updated_at"]
    list_filter = ["currency"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="price", ordering="price")
    def display_price(self, obj: Item) -> str:
        return format_amount(obj.price, obj.currency)
