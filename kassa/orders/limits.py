"""Stripe's limits on one payment, kept as the shop's own, so an order Stripe would refuse is
refused here first, with a message the customer can act on, before any call to Stripe: at most
100 distinct items (Checkout's `line_items` in payment mode) and at least Stripe's minimum
charge in the order's currency. The most a payment can be is checked as the cart grows
(kassa.orders.cart)."""

from django.utils.translation import gettext as _

from kassa.common.money import format_amount, from_minor, minimum_charge
from kassa.orders.errors import BelowMinimumCharge, TooManyLines
from kassa.orders.pricing import Totals

# Checkout Sessions in payment mode take at most 100 line items; a PaymentIntent takes any
# number, but an order is one order whichever way it is paid.
MAX_LINES = 100


def too_many_lines(count: int) -> str:
    """What to tell a customer whose order has `count` distinct items; "" within the limit."""
    if count <= MAX_LINES:
        return ""
    return _(
        "An order can hold at most %(max)s different items; this one has %(count)s. "
        "Remove some to pay, and buy them in another order."
    ) % {"max": MAX_LINES, "count": count}


def below_minimum(totals: Totals) -> str:
    """What to tell a customer whose order comes to less than Stripe charges at the least in
    its currency; "" when it is enough. A free order charges nothing, which Checkout takes."""
    least = minimum_charge(totals.currency)
    if least is None or totals.is_free or totals.goods_total >= least:
        return ""
    return _(
        "The smallest payment in %(currency)s is %(least)s; this order comes to %(total)s. "
        "Add something to pay for it."
    ) % {
        "currency": totals.currency.upper(),
        "least": format_amount(from_minor(least, totals.currency), totals.currency),
        "total": format_amount(from_minor(totals.goods_total, totals.currency), totals.currency),
    }


def check_lines(count: int) -> None:
    """Raise TooManyLines for an order of `count` distinct items past the limit."""
    message = too_many_lines(count)
    if message:
        raise TooManyLines(message)


def check_payable(totals: Totals) -> None:
    """Raise what stops Stripe taking payment for the order `totals` describes."""
    check_lines(len(totals.lines))
    message = below_minimum(totals)
    if message:
        raise BelowMinimumCharge(message)
