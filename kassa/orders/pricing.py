"""An order's totals, computed the way Stripe Checkout computes what it charges.

All arithmetic is on integer minor units, as Stripe's is:
1. each line is unit amount × quantity; the subtotal is their sum;
2. the discount comes off first: a percentage of the subtotal (rounded half up), or a fixed
   amount (never more than the subtotal); it is spread over the lines in proportion to their
   amounts, the last cent going to the largest remainders so the parts add up exactly;
3. tax is computed per line on the discounted line amount and rounded half up per line:
   exclusive tax is added on top; inclusive tax is the part of the price that is tax, and
   changes nothing in what the customer pays;
4. shipping, the chosen rate's fixed amount, is added last: neither discounted nor taxed (a
   coupon and a line's tax rates apply to the line items only).
Stripe charges three-decimal currencies (KWD, BHD, ...) only in amounts ending in 0, so there a
percentage discount and each line's tax are rounded to tens of the minor unit.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kassa.common.money import THREE_DECIMAL, to_minor
from kassa.orders.models import Discount, Order, OrderLine, Tax
from kassa.orders.tax_mode import stripe_computes_tax


@dataclass(frozen=True)
class LineTotal:
    line: OrderLine
    unit_amount: int
    amount: int
    discount: int
    tax: int


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: list[LineTotal]
    subtotal: int
    discount: int
    discount_applies: bool  # the order's discount counts (see discount_in_effect)
    tax: int
    tax_inclusive: bool
    shipping: int
    total: int

    @property
    def goods_total(self) -> int:
        """What the items come to, before shipping (what a "free from" amount is held to)."""
        return self.total - self.shipping

    @property
    def item_count(self) -> int:
        return sum(line.line.quantity for line in self.lines)

    @property
    def is_free(self) -> bool:
        """Items that cost nothing in all (a full discount): no card payment to make."""
        return bool(self.lines) and self.total <= 0


def _step(currency: str) -> int:
    """The smallest amount Stripe charges in `currency`, in its minor unit."""
    return 10 if currency.lower() in THREE_DECIMAL else 1


def _round_half_up(value: Fraction, step: int = 1) -> int:
    """Nearest multiple of `step`, halves away from zero (amounts here are never negative)."""
    return (2 * value.numerator + step * value.denominator) // (2 * step * value.denominator) * step


def discount_in_effect(order: Order) -> Discount | None:
    """The order's discount, if it counts. In a cart, only a code still active in the cart's
    currency. Once payment has begun, the one it began with (lifecycle.order_begin_payment
    keeps only a discount in effect then): switching the code off since changes nothing in what
    the order was, or is being, charged. Checkout's coupon follows the same rule."""
    discount = order.discount
    if discount is None:
        return None
    usable = discount.applies_to if order.is_editable else discount.fits
    return discount if usable(order.currency) else None


def discount_amount(discount: Discount | None, *, subtotal: int, currency: str) -> int:
    """What `discount` takes off `subtotal` (see discount_in_effect for whether it counts)."""
    if discount is None or subtotal == 0:
        return 0
    if discount.is_percent:
        assert discount.percent_off is not None
        exact = Fraction(subtotal) * Fraction(discount.percent_off) / 100
        return min(subtotal, _round_half_up(exact, _step(currency)))
    assert discount.amount_off is not None
    return min(subtotal, to_minor(discount.amount_off, currency))


def spread(total: int, weights: list[int]) -> list[int]:
    """Split `total` over `weights` proportionally; the parts sum to `total` exactly."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    exact = [Fraction(total * weight, whole) for weight in weights]
    parts = [int(share) for share in exact]
    leftover = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts


def line_tax(tax: Tax | None, amount: int, *, currency: str) -> int:
    if tax is None or amount == 0:
        return 0
    rate = Fraction(tax.percentage)
    share = rate / (100 + rate) if tax.inclusive else rate / 100
    return _round_half_up(Fraction(amount) * share, _step(currency))


def charged_price(order: Order, line: OrderLine) -> Decimal:
    """A line's unit price: a cart's follows the catalog; once its payment began, the line's
    own (lifecycle.order_begin_payment froze it at the catalog's price of that moment)."""
    return line.item.price if order.is_editable else line.unit_price


def order_totals(
    order: Order, lines: list[OrderLine] | None = None, *, shipping: int | None = None
) -> Totals:
    """Totals for `order`; pass `lines` when they are already loaded (with their items), and
    `shipping` to price a shipping choice (default: the one recorded when it was paid)."""
    shipping = order.shipping_amount if shipping is None else shipping
    currency = order.currency
    lines = list(order.lines.all()) if lines is None else lines
    units = [to_minor(charged_price(order, line), currency) for line in lines]
    amounts = [unit * line.quantity for unit, line in zip(units, lines, strict=True)]
    subtotal = sum(amounts)
    in_effect = discount_in_effect(order)
    discount = discount_amount(in_effect, subtotal=subtotal, currency=currency)
    discounts = spread(discount, amounts)
    # With Stripe Tax, staff's rates do not apply: Stripe computes tax from the buyer's address
    # at payment (the order records it then).
    manual = None if stripe_computes_tax() else order.tax
    taxes = [
        line_tax(manual, amount - cut, currency=currency)
        for amount, cut in zip(amounts, discounts, strict=True)
    ]
    tax = sum(taxes)
    inclusive = bool(manual and manual.inclusive)
    return Totals(
        currency=currency,
        lines=[
            LineTotal(
                line=line,
                unit_amount=unit,
                amount=amount,
                discount=cut,
                tax=line_tax_amount,
            )
            for line, unit, amount, cut, line_tax_amount in zip(
                lines, units, amounts, discounts, taxes, strict=True
            )
        ],
        subtotal=subtotal,
        discount=discount,
        discount_applies=in_effect is not None,
        tax=tax,
        tax_inclusive=inclusive,
        shipping=shipping,
        total=subtotal - discount + (0 if inclusive else tax) + shipping,
    )


def returned_amount(order: Order, returned: Mapping[int, int]) -> int:
    """What the customer paid for units that came back: `returned` maps an order line's id to
    its units. Each unit counts its line's share of the discount and of the tax (added on top
    when the tax is exclusive; with Stripe Tax, the line's tax Stripe reported); shipping is
    not part of it. Rounded per line to an amount Stripe refunds in the currency."""
    totals = order_totals(order)
    by_stripe = order.tax_computed_by_stripe
    inclusive = order.tax_inclusive if by_stripe else totals.tax_inclusive
    taxes = [part.tax for part in totals.lines]
    if by_stripe:
        taxes = _stripe_line_taxes(order, totals)
    amount = 0
    for part, tax in zip(totals.lines, taxes, strict=True):
        units = returned.get(part.line.pk, 0)
        if not units or not part.line.quantity:
            continue
        paid = part.amount - part.discount + (0 if inclusive else tax)
        share = Fraction(paid * min(units, part.line.quantity), part.line.quantity)
        amount += _round_half_up(share, _step(order.currency))
    return amount


def _stripe_line_taxes(order: Order, totals: Totals) -> list[int]:
    """Each line's tax as Stripe Tax computed it: its own figure where Stripe reported one per
    line (the card page's calculation); else (Checkout) the tax added on top of the goods, which
    is what was paid beyond the goods and the shipping, spread over the lines by amount."""
    recorded = [part.line.tax_amount for part in totals.lines]
    if all(tax is not None for tax in recorded):
        return [tax or 0 for tax in recorded]
    if order.tax_inclusive or order.amount_paid is None:
        return [0 for _ in totals.lines]  # inside the prices: refunded with them
    goods = [part.amount - part.discount for part in totals.lines]
    added = order.amount_paid - order.shipping_amount - sum(goods)
    return spread(max(added, 0), goods)
