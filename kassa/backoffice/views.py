"""The dashboard's one view of its own: the CSV export (the figures are on the admin index)."""

import io
import tempfile

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.backoffice.exports import write_csv
from kassa.backoffice.forms import ExportForm
from kassa.backoffice.templatetags.dashboard import PERMISSION

# Up to this much of the file is kept in memory, the rest in a temporary file.
IN_MEMORY_BYTES = 1 << 20


def export_paid_orders(request: HttpRequest) -> HttpResponseBase:
    """Paid orders of a range of days as CSV. The file is written whole before it is sent, so a
    failure on the way is an error page, never a download cut short that looks complete."""
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
    spool = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 - FileResponse closes it
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
    write_csv(text, start=start, end=end)
    text.flush()
    text.detach()  # the response reads the bytes; the wrapper must not close them
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"kassa-paid-orders-{start.isoformat()}-{end.isoformat()}.csv",
        content_type="text/csv; charset=utf-8",
    )
