"""What Stripe reported about a payment beyond its amount, as the order records it: the tax
Stripe Tax computed, the currency the buyer saw, a business buyer's details."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TaxShare:
    name: str
    rate: str
    amount: int  # minor units of the order's currency
    inclusive: bool


@dataclass(frozen=True)
class ChargeDetails:
    tax_by_stripe: bool = False
    tax_amount: int = 0
    tax_inclusive: bool = False
    tax_shares: tuple[TaxShare, ...] = ()
    # The tax Stripe computed for each of the order's lines (line id, minor units), where it
    # reports it per line (a tax calculation's line items).
    line_taxes: tuple[tuple[int, int], ...] = ()
    presentment_currency: str = ""
    presentment_amount: int | None = None
    company: str = ""
    tax_id: str = ""
