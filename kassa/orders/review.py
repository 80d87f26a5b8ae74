"""What a cart must tell its customer before they pay: prices that changed since the items were
added, and what stops the payment until fixed."""

from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _

from kassa.common.money import format_amount, from_minor
from kassa.orders import discount_rules, limits
from kassa.orders.checkout_defaults import no_rate_problem, offered
from kassa.orders.models import Order
from kassa.orders.pricing import Totals, order_totals
from kassa.orders.shipping import needs_shipping


@dataclass(frozen=True)
class PriceChange:
    item_id: int
    name: str
    was: str  # formatted, in the order's currency
    now: str


@dataclass(frozen=True)
class CartReview:
    """What a cart must tell its customer before they pay: prices changed since they added
    the items (the cart charges the new ones), and what stops the payment until fixed."""

    price_changes: list[PriceChange] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Goods to send, shipping chosen at checkout: what it will cost at least ("" otherwise).
    shipping_from: str = ""
    # Goods to send, and every shipping choice free (free rates, or a free-shipping discount):
    # the total is final.
    shipping_free: bool = False


def cart_review(order: Order, totals: Totals | None = None) -> CartReview:
    """An open order's review, from its lines as loaded (with their items); nothing for an
    order whose payment began (its lines are frozen)."""
    if not order.is_editable:
        return CartReview()
    totals = totals or order_totals(order)
    review = CartReview()
    for line_total in totals.lines:
        line, item = line_total.line, line_total.line.item
        if line.unit_price != item.price:
            review.price_changes.append(
                PriceChange(
                    item_id=item.pk,
                    name=item.name,
                    was=format_amount(line.unit_price, order.currency),
                    now=format_amount(item.price, order.currency),
                )
            )
        available = item.available
        if not item.is_active:
            review.problems.append(
                _("%(item)s is no longer on sale: remove it to pay for the rest.")
                % {"item": item.name}
            )
        elif available is not None and line.quantity > available:
            if available == 0:
                problem = _("%(item)s is sold out: remove it to pay for the rest.")
            else:
                problem = _("Only %(count)s of %(item)s left: lower the quantity to pay.")
            review.problems.append(problem % {"item": item.name, "count": available})
    code_problem = _code_problem(order, totals)
    if code_problem:
        review.problems.append(code_problem)
    # Stripe's limits on one payment (kassa.orders.limits): the cart says so before Pay.
    for problem in (limits.too_many_lines(len(totals.lines)), limits.below_minimum(totals)):
        if problem:
            review.problems.append(problem)
    lines = [line_total.line for line_total in totals.lines]
    # Goods to send in a currency the shop has no shipping rate in: refused, never sent free.
    no_rate = no_rate_problem(currency=order.currency, lines=lines)
    if no_rate:
        review.problems.append(no_rate)
        return review
    if lines and needs_shipping(lines) and not order.shipping_method:
        # The choices Checkout will offer, as it offers them: all free with a free-shipping
        # discount in effect.
        options = offered(
            order=order,
            lines=lines,
            goods=totals.goods_total,
            free_shipping=totals.free_shipping,
        )
        if all(option.amount == 0 for option in options):
            return replace(review, shipping_free=True)  # whatever is chosen, the total holds
        cheapest = min(option.amount for option in options)
        shipping_from = (
            format_amount(from_minor(cheapest, order.currency), order.currency)
            if cheapest
            else _("Free")
        )
        return replace(review, shipping_from=shipping_from)
    return review


def _code_problem(order: Order, totals: Totals) -> str:
    """Why the cart's code stopped applying (its rules, or no use left): the payment waits
    until the customer removes it."""
    if totals.code_problem or order.discount is None:
        return totals.code_problem
    email, user_id = discount_rules.customer_of(order)
    return (
        discount_rules.use_refusal(order.discount, order_id=order.pk, email=email, user_id=user_id)
        or ""
    )
