"""The dashboard's one view of its own: the CSV export (the figures are on the admin index)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.backoffice.exports import csv_rows
from kassa.backoffice.forms import ExportForm
from kassa.backoffice.templatetags.dashboard import PERMISSION


def export_paid_orders(request: HttpRequest) -> HttpResponseBase:
    """Paid orders of a range of days as CSV, streamed as it is read: a year of a busy shop
    starts at once and never sits whole in memory. A failure on the way (the database gone)
    cuts the stream off before its end, which browsers report as a failed download, never
    as a complete file."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    today = timezone.localdate()
    form = ExportForm(request.GET or None, today=today)
    if not form.is_bound:  # without a range, the dashboard's own: the last 30 days
        form = ExportForm(form.initial, today=today)
    if not form.is_valid():
        context = {
            **admin.site.each_context(request),
            "title": _("Export paid orders"),
            "form": form,
        }
        return TemplateResponse(request, "admin/dashboard/export.html", context, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    filename = f"kassa-paid-orders-{start.isoformat()}-{end.isoformat()}.csv"
    response = StreamingHttpResponse(
        (piece.encode() for piece in csv_rows(start=start, end=end)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
