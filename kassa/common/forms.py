"""What the shop's forms share: their errors as a ShopError, and the fields of a few shapes."""

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.widgets import Widget
from django_stubs_ext import StrOrPromise

from kassa.common.converters import ID_MAX_DIGITS
from kassa.common.errors import Invalid


def cleaned(form: forms.Form) -> dict[str, Any]:
    """The form's cleaned data; a form that does not validate is `Invalid`, told its first
    problem (the pages show one message per refused post)."""
    if not form.is_valid():
        first = next(iter(form.errors.values()))
        raise Invalid(str(first[0]))
    return form.cleaned_data


class DigitsField(forms.Field):
    """A whole number written in ASCII digits, at most `max_digits` of them. Python's int()
    takes "١٢", " +5" and "1_000"; a customer's form should not."""

    def __init__(self, *, max_digits: int, message: StrOrPromise, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pattern = re.compile(f"[0-9]{{1,{max_digits}}}")
        self.error_messages["invalid"] = message

    def to_python(self, value: object) -> int | None:
        if value in self.empty_values:
            return None
        text = value.strip() if isinstance(value, str) else ""
        if not self.pattern.fullmatch(text):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(text)


class IdField(DigitsField):
    """A database id, as the `id` path converter takes it."""

    def __init__(self, **kwargs: Any) -> None:
        message = forms.IntegerField.default_error_messages["invalid"]  # Django's, translated
        super().__init__(max_digits=ID_MAX_DIGITS, message=message, **kwargs)


class ButtonInput(Widget):
    """A submit button: pressed when its name is in the posted data, whatever its value."""

    def value_from_datadict(self, data: Mapping[str, Any], files: object, name: str) -> bool:
        return name in data
