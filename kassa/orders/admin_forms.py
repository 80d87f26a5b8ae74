"""The admin's forms for order lines and discounts: amounts with their currency's decimals."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kassa.common.admin_money import show_in_currency
from kassa.common.money import CURRENCIES, MoneyError, validate_amount
from kassa.orders.models import Discount, OrderLine


class MinimumsField(forms.CharField):
    """A minimum subtotal per currency, typed as "EUR 50, USD 60.00"; kept as
    {"eur": "50", "usd": "60.00"}."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return ", ".join(f"{cur.upper()} {amount}" for cur, amount in sorted(value.items()))
        return value

    def to_python(self, value: Any) -> dict[str, str]:  # type: ignore[override]
        if isinstance(value, dict):
            return value
        text = str(value or "").strip()
        minimums: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
            pieces = part.split()
            if len(pieces) != 2 or pieces[0].lower() not in CURRENCIES:
                raise ValidationError(
                    _("Write each minimum as a currency and an amount, e.g. “EUR 50, USD 60”.")
                )
            currency = pieces[0].lower()
            try:
                amount = Decimal(pieces[1])
                validate_amount(amount, currency)
            except (InvalidOperation, MoneyError) as exc:
                raise ValidationError(
                    _("%(part)s is not an amount in that currency.") % {"part": part}
                ) from exc
            minimums[currency] = str(amount)
        return minimums


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
    min_subtotal = MinimumsField(
        label=_("minimum subtotal"),
        required=False,
        help_text=_(
            "Per currency, e.g. “EUR 50, USD 60”: an order in a currency listed needs at least "
            "that much before the code's discount. Blank: no minimum."
        ),
    )

    class Meta:
        model = Discount
        fields = [
            "name",
            "kind",
            "percent_off",
            "amount_off",
            "currency",
            "code",
            "active",
            "automatic",
            "valid_from",
            "valid_until",
            "max_uses",
            "max_uses_per_customer",
            "min_subtotal",
            "products",
            "collections",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.currency:
            show_in_currency(self, self.instance.currency, "amount_off")
