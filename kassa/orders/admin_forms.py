"""The admin's forms for order lines and discounts: amounts with their currency's decimals."""

from typing import Any

from django import forms

from kassa.common.admin_money import show_in_currency
from kassa.orders.models import Discount, OrderLine


class OrderLineAdminForm(forms.ModelForm[OrderLine]):
    class Meta:
        model = OrderLine
        fields = ["item", "quantity", "unit_price"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The inline's queryset brings each line's order along (OrderLineInline.get_queryset).
        if self.instance.order_id is not None:
            show_in_currency(self, self.instance.order.currency, "unit_price")


class DiscountAdminForm(forms.ModelForm[Discount]):
    class Meta:
        model = Discount
        fields = ["name", "kind", "percent_off", "amount_off", "currency", "code", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.currency:
            show_in_currency(self, self.instance.currency, "amount_off")
