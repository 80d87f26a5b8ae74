"""`{% sales_dashboard %}`: the sales figures on the admin's index page."""

from typing import Any
from urllib.parse import urlencode

from django import template
from django.http import HttpRequest

from kassa.backoffice.charts import sales_chart
from kassa.backoffice.forms import ExportForm
from kassa.backoffice.selectors import TO_SHIP, cached_sales_overview
from kassa.common.money import format_amount, from_minor
from kassa.orders.models import Order
from kassa.orders.selectors import currencies_without_shipping_rate

register = template.Library()
# Sales are what orders add up to: staff who may not see orders do not see them either.
PERMISSION = "orders.view_order"


@register.inclusion_tag("admin/dashboard/overview.html", takes_context=True)
def sales_dashboard(context: template.Context) -> dict[str, Any]:
    request: HttpRequest | None = context.get("request")
    if request is None or not request.user.has_perm(PERMISSION):
        return {"shown": False}
    overview = cached_sales_overview()
    return {
        "shown": True,
        "overview": overview,
        "charts": [(sales_chart(sales), sales) for sales in overview.sales],
        "export_form": ExportForm(today=overview.today),
        # Read afresh, not with the cached figures: staff who add a rate see the warning go.
        "without_shipping_rate": [code.upper() for code in currencies_without_shipping_rate()],
        "may_see_shipping_rates": request.user.has_perm("orders.view_shippingrate"),
        # The Orders list's filters for what the panel counts as orders to ship.
        "to_ship_query": urlencode(
            {
                "fulfilment_status__exact": Order.Fulfilment.UNFULFILLED,
                "status__in": ",".join(TO_SHIP),
            }
        ),
    }


@register.filter
def money(minor: int, currency: str) -> str:
    """Minor units of `currency` as the staff member's language writes the amount."""
    return format_amount(from_minor(minor, currency), currency)


@register.filter
def per_currency(amounts: dict[str, int]) -> list[str]:
    """A {currency: minor units} mapping as one written amount per currency, by code."""
    return [money(amounts[code], code) for code in sorted(amounts)]
