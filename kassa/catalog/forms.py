"""What the catalog's address may ask for: a page (`?page=N`) and a search (`?q=...`)."""

import re
import unicodedata
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kassa.common.forms import DigitsField

# Longer searches are cut here: no product name needs more, and a query's cost grows with it.
QUERY_MAX_LENGTH = 200
_SPACES = re.compile(r"\s+")


class SearchQueryField(forms.CharField):
    """What the visitor typed, made searchable: Unicode compatibility forms folded (a
    full-width "ｍｕｇ" is "mug"), control and format characters (NUL among them, which
    PostgreSQL refuses in text) dropped, spaces collapsed, and cut at QUERY_MAX_LENGTH. So any
    query is either words to look for or nothing, never an error."""

    def to_python(self, value: Any) -> str:
        text = unicodedata.normalize("NFKC", str(value or ""))
        text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
        return _SPACES.sub(" ", text).strip()[:QUERY_MAX_LENGTH].strip()


class CatalogQueryForm(forms.Form):
    page = DigitsField(max_digits=9, message=_("There is no such page."), required=False)
    q = SearchQueryField(required=False)

    def clean_page(self) -> int:
        number = self.cleaned_data.get("page")
        if number is None:
            return 1
        if number < 1:
            raise forms.ValidationError(_("There is no such page."), code="invalid")
        return int(number)
