from decimal import Decimal

from django import template

from kassa.common.money import format_amount, from_minor

register = template.Library()


@register.filter
def money(amount: Decimal, currency: str) -> str:
    """`{{ item.price|money:item.currency }}` → '12.34 USD', with the currency's own decimals."""
    return format_amount(Decimal(amount), currency)


@register.filter
def minor_money(minor: int, currency: str) -> str:
    """`{{ totals.total|minor_money:order.currency }}` for amounts kept in minor units."""
    return format_amount(from_minor(int(minor), currency), currency)
