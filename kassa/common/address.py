"""The shop's one shape of a person and of a place: who buys (`Contact`) and where the goods go
(`Address`). Stripe's reports, the card page's form, the order's columns, the mail and the API
all read and write these; nothing keeps its own copy of the fields."""

from dataclasses import dataclass


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
