"""Amounts in staff forms written with their currency's decimals, as customers read them.

The models store prices with three decimal places, enough for every currency Stripe supports,
so a form would show a USD price of 14.5 as "14.500" and a JPY one of 1500 as "1500.000".
"""

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin

from kassa.common.money import CURRENCIES, exponent

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices
    from django.contrib.admin.views.main import ChangeList


def in_currency(amount: Decimal, currency: str) -> Decimal:
    """`amount` with exactly the currency's decimals (14.500 USD -> 14.50, 1500.000 JPY -> 1500).

    Only trailing zeros go: an amount with more decimals than its currency has is left as it is,
    so that saving the form unchanged can never round it.
    """
    if currency.lower() not in CURRENCIES:
        return amount
    written = amount.quantize(Decimal(1).scaleb(-exponent(currency)))
    return written if written == amount else amount


def show_in_currency(form: forms.BaseForm, currency: str, *names: str) -> None:
    """Write the form's initial `names` in `currency` (call it at the end of `__init__`)."""
    for name in names:
        value = form.initial.get(name)
        if isinstance(value, Decimal):
            form.initial[name] = in_currency(value, currency)


class _CurrenciesInUse(admin.AllValuesFieldListFilter):
    """Django's filter of the values present, with each code written as prices show it (USD),
    not as stored (usd)."""

    def choices(self, changelist: "ChangeList") -> Iterator["_ListFilterChoices"]:
        codes = {str(code) for code in self.lookup_choices}
        for choice in super().choices(changelist):
            if choice["display"] in codes:
                choice["display"] = str(choice["display"]).upper()
            yield choice


# The currency filter lists the currencies the rows have, not all the shop could take.
CURRENCIES_IN_USE = ("currency", _CurrenciesInUse)
