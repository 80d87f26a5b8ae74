from decimal import Decimal

from django import template

from kassa.common.money import format_amount

register = template.Library()


@register.filter
def money(amount: Decimal, currency: str) -> str:
    """`{{ item.price|money:item.currency }}` → '12.34 USD', with the currency's own decimals."""
    return format_amount(Decimal(amount), currency)
