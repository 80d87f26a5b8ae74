"""Fulfilment in the orders admin: mark shipped (with carrier and tracking), mark delivered,
and a CSV of the selected orders for a packing list or a carrier's import."""

import csv
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kassa.common.money import from_minor
from kassa.orders import lifecycle
from kassa.orders.models import Order


class MarkShippedForm(forms.Form):
    carrier = forms.CharField(label=gettext_lazy("Carrier"), max_length=100)
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"), max_length=100, required=False
    )
    tracking_url = forms.URLField(
        label=gettext_lazy("Tracking URL"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=gettext_lazy("The customer's shipped notice links to it."),
    )


@admin.action(description=gettext_lazy("Mark selected orders shipped"))
def mark_shipped(
    modeladmin: admin.ModelAdmin[Order], request: HttpRequest, queryset: QuerySet[Order]
) -> TemplateResponse | None:
    form = MarkShippedForm(request.POST if "confirm_shipped" in request.POST else None)
    waiting = queryset.filter(
        status=Order.Status.PAID, fulfilment_status=Order.Fulfilment.UNFULFILLED
    )
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Mark orders shipped"),
            "orders": list(waiting),
            "skipped": queryset.count() - waiting.count(),
            "form": form,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/orders/mark_shipped.html", context)
    shipped = 0
    for order in waiting:
        shipped += lifecycle.order_mark_shipped(
            order_id=order.pk,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
            tracking_url=form.cleaned_data["tracking_url"],
            source=f"admin {request.user}",
        )
    modeladmin.message_user(
        request,
        _("%(count)s orders marked shipped; their customers are told.") % {"count": shipped},
    )
    return None


@admin.action(description=gettext_lazy("Mark selected orders delivered"))
def mark_delivered(
    modeladmin: admin.ModelAdmin[Order], request: HttpRequest, queryset: QuerySet[Order]
) -> None:
    delivered = sum(
        lifecycle.order_mark_delivered(order_id=order.pk, source=f"admin {request.user}")
        for order in queryset.filter(fulfilment_status=Order.Fulfilment.SHIPPED)
    )
    level = messages.SUCCESS if delivered else messages.WARNING
    modeladmin.message_user(
        request,
        _("%(count)s orders marked delivered (only shipped orders can be).") % {"count": delivered},
        level,
    )


CSV_COLUMNS = [
    "order",
    "status",
    "fulfilment",
    "paid_at",
    "currency",
    "amount_paid",
    "shipping_amount",
    "email",
    "name",
    "phone",
    "ship_to",
    "line1",
    "line2",
    "postal_code",
    "city",
    "state",
    "country",
    "shipping_method",
    "carrier",
    "tracking_number",
    "items",
]


def _cell(value: str) -> str:
    """A customer's text as a spreadsheet cell that is never run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _row(order: Order) -> list[Any]:
    paid = from_minor(order.amount_paid, order.currency) if order.amount_paid is not None else ""
    items = "; ".join(f"{line.quantity} × {line.item.name}" for line in order.lines.all())
    texts = [
        order.email,
        order.customer_name,
        order.phone,
        order.shipping_name,
        order.shipping_line1,
        order.shipping_line2,
        order.shipping_postal_code,
        order.shipping_city,
        order.shipping_state,
        order.shipping_country,
        order.shipping_method,
        order.carrier,
        order.tracking_number,
        items,
    ]
    return [
        order.pk,
        order.status,
        order.fulfilment_status,
        order.paid_at.isoformat() if order.paid_at else "",
        order.currency.upper(),
        paid,
        from_minor(order.shipping_amount, order.currency),
        *(_cell(text) for text in texts),
    ]


@admin.action(description=gettext_lazy("Download selected orders as CSV"))
def export_csv(
    modeladmin: admin.ModelAdmin[Order], request: HttpRequest, queryset: QuerySet[Order]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for order in queryset.prefetch_related("lines__item").order_by("pk"):
        writer.writerow(_row(order))
    return response
