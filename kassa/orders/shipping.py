"""Which of the shipping rates staff offer an order is offered, at what price, and what the
customer chose."""

from collections.abc import Iterable
from dataclasses import dataclass

from kassa.common.money import to_minor
from kassa.orders.models import OrderLine, ShippingRate

# Stripe Checkout offers at most five shipping options.
MAX_OPTIONS = 5


def needs_shipping(lines: Iterable[OrderLine]) -> bool:
    """Whether any of the lines' goods are sent (digital goods are not)."""
    return any(line.item.requires_shipping for line in lines)


@dataclass(frozen=True)
class ShippingOption:
    """A rate as one order is offered it: its price for that order, in minor units."""

    rate: ShippingRate
    amount: int


def option_amount(rate: ShippingRate, *, goods_total: int) -> int:
    """What `rate` costs an order whose goods (after discount, with tax) come to `goods_total`
    minor units: nothing from its "free from" amount on."""
    if rate.free_from is not None and goods_total >= to_minor(rate.free_from, rate.currency):
        return 0
    return to_minor(rate.amount, rate.currency)


@dataclass(frozen=True)
class ShippingCharge:
    """The shipping a customer chose and paid for, as the order records it."""

    rate_id: int | None = None  # our ShippingRate, when the choice was one of ours
    method: str = ""
    amount: int = 0  # minor units, part of what was paid
