"""An order's totals, computed the way Stripe Checkout computes what it charges.

All arithmetic is on integer minor units, as Stripe's is:
0. an automatic discount (a sale, kassa.orders.discount_rules) lowers the unit price of each
   item it covers by its percentage, rounded half up per unit: Checkout is sent that price;
1. each line is unit amount × quantity; the subtotal is their sum;
2. the code's discount comes off next: a percentage of the subtotal of the lines it covers
   (rounded half up), or a fixed amount (never more than that subtotal); it is spread over
   those lines in proportion to their amounts, the last cent going to the largest remainders
   so the parts add up exactly (Stripe's coupon `applies_to` its lines' products);
3. tax is computed per line on the discounted line amount and rounded half up per line:
   exclusive tax is added on top; inclusive tax is the part of the price that is tax, and
   changes nothing in what the customer pays;
4. shipping, the chosen rate's fixed amount, is added last: neither discounted nor taxed (a
   coupon and a line's tax rates apply to the line items only); a free-shipping discount makes
   every rate offered cost nothing.
Stripe charges three-decimal currencies (KWD, BHD, ...) only in amounts ending in 0, so there a
percentage discount and each line's tax are rounded to tens of the minor unit.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from kassa.common.money import THREE_DECIMAL, to_minor
from kassa.orders import discount_rules
from kassa.orders.checkout_defaults import options_for
from kassa.orders.models import Discount, Order, OrderLine, Tax
from kassa.orders.shipping import needs_shipping
from kassa.orders.tax_mode import stripe_computes_tax


@dataclass(frozen=True)
class LineTotal:
    line: OrderLine
    unit_amount: int  # what Checkout charges a unit: after an automatic discount
    amount: int
    discount: int
    tax: int
    list_unit_amount: int = 0  # the catalog's price of a unit, before an automatic discount

    @property
    def promotion(self) -> int:
        """What the automatic discount takes off the line."""
        return (self.list_unit_amount - self.unit_amount) * self.line.quantity


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
    # The discounts behind the amounts: the code's (or staff's) in effect, the automatic one,
    # and whether either makes shipping free.
    code: Discount | None = None
    promotion: Discount | None = None
    promotion_amount: int = 0
    free_shipping: bool = False
    # Why the order's code does not count ("" when it does, or there is none).
    code_problem: str = ""

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
    """The order's code (or staff's) discount, if it counts: see order_totals."""
    return order_totals(order).code


def discount_amount(discount: Discount | None, *, subtotal: int, currency: str) -> int:
    """What `discount` takes off `subtotal` (see discount_in_effect for whether it counts)."""
    if discount is None or subtotal == 0 or discount.is_free_shipping:
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


def _shipping_saving(order: Order, lines: list[OrderLine], goods: int) -> int:
    """What free shipping would save a cart: its cheapest rate (nothing if nothing ships)."""
    if not needs_shipping(lines):
        return 0
    options = options_for(currency=order.currency, goods_total=goods)
    return min((option.amount for option in options), default=0)


def order_totals(
    order: Order, lines: list[OrderLine] | None = None, *, shipping: int | None = None
) -> Totals:
    """Totals for `order`; pass `lines` when they are already loaded (with their items), and
    `shipping` to price a shipping choice (default: the one recorded when it was paid).

    Which discounts count: in a cart, the best automatic discount that fits it now and the code
    if its rules allow it (kassa.orders.discount_rules; its uses are counted when it is typed and
    when the payment begins). Once payment has begun, the ones it began with
    (lifecycle.order_begin_payment): switching them off since changes nothing in what the order
    was, or is being, charged. Checkout's coupon follows the same rule."""
    shipping = order.shipping_amount if shipping is None else shipping
    currency = order.currency
    lines = list(order.lines.all()) if lines is None else lines
    list_units = [to_minor(charged_price(order, line), currency) for line in lines]
    code, problem = order.discount, ""
    promotion = None if order.is_editable else order.promotion
    # A cart reads the discounts' rules once; an order whose payment began reads its lines'
    # frozen cuts and coverage instead (discount_uses.freeze), so later edits change nothing.
    terms = discount_rules.snapshot() if order.is_editable else None
    if order.is_editable:
        list_subtotal = sum(u * line.quantity for u, line in zip(list_units, lines, strict=True))
        promotion = discount_rules.best_automatic(
            order=order,
            lines=lines,
            units=list_units,
            shipping_saving=lambda: _shipping_saving(order, lines, list_subtotal),
            terms=terms,
        )
    units = [
        unit
        - (
            discount_rules.unit_cut(promotion, line.item, unit, currency, terms)
            if terms is not None
            else min(line.promotion_unit_cut, unit)
        )
        for unit, line in zip(list_units, lines, strict=True)
    ]
    amounts = [unit * line.quantity for unit, line in zip(units, lines, strict=True)]
    subtotal = sum(amounts)
    if code is not None and order.is_editable:
        cart = discount_rules.Cart(currency=currency, lines=lines, subtotal=subtotal)
        problem = discount_rules.refusal(code, cart, terms=terms) or ""
        code = None if problem else code
    elif code is not None and not code.fits(currency):
        code = None
    covered = [
        amount
        if code is not None
        and (discount_rules.covers(code, line.item, terms) if terms else line.code_covers)
        else 0
        for amount, line in zip(amounts, lines, strict=True)
    ]
    discount = discount_amount(code, subtotal=sum(covered), currency=currency)
    discounts = spread(discount, covered)
    free_shipping = any(d is not None and d.is_free_shipping for d in (code, promotion))
    if free_shipping:
        shipping = 0
    # With Stripe Tax, staff's rates do not apply: Stripe computes tax from the buyer's address
    # at payment (the order records it then).
    manual = None if stripe_computes_tax() else order.tax
    taxes = [
        line_tax(manual, amount - cut, currency=currency)
        for amount, cut in zip(amounts, discounts, strict=True)
    ]
    tax = sum(taxes)
    inclusive = bool(manual and manual.inclusive)
    parts = [
        LineTotal(
            line=line,
            unit_amount=unit,
            amount=amount,
            discount=cut,
            tax=line_tax_amount,
            list_unit_amount=list_unit,
        )
        for line, unit, amount, cut, line_tax_amount, list_unit in zip(
            lines, units, amounts, discounts, taxes, list_units, strict=True
        )
    ]
    return Totals(
        currency=currency,
        lines=parts,
        subtotal=subtotal,
        discount=discount,
        discount_applies=code is not None,
        tax=tax,
        tax_inclusive=inclusive,
        shipping=shipping,
        total=subtotal - discount + (0 if inclusive else tax) + shipping,
        code=code,
        promotion=promotion,
        promotion_amount=sum(part.promotion for part in parts),
        free_shipping=free_shipping,
        code_problem=problem,
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
