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
    presentment_currency: str = ""
    presentment_amount: int | None = None
    company: str = ""
    tax_id: str = ""
