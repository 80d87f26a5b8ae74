"""The export's form: which days of paid orders to download."""

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kassa.backoffice.selectors import DAYS

# A year and a day: enough for any year's accounts, leap or not.
MAX_EXPORT_DAYS = 367


class DateInput(forms.DateInput):
    input_type = "date"  # the browser's date picker; it sends YYYY-MM-DD

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class ExportForm(forms.Form):
    """Paid orders from the first day to the last, both included, as days in TIME_ZONE."""

    start = forms.DateField(label=_("From"), widget=DateInput(), input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=_("To"), widget=DateInput(), input_formats=["%Y-%m-%d"])

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"start": today - timedelta(days=DAYS - 1), "end": today})
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        if end < start:
            raise forms.ValidationError(_("The last day comes before the first."), code="order")
        if (end - start).days + 1 > MAX_EXPORT_DAYS:
            raise forms.ValidationError(
                _("Export at most %(days)s days at a time."),
                code="too_long",
                params={"days": MAX_EXPORT_DAYS},
            )
        return data
