"""An order's discount uses: held when its payment begins, final when it is paid, released when
the attempt closes without money, as kassa.orders.stock does with units.

A discount with a limit (uses in all, uses per customer) has its row locked while a use is
counted and taken, so a rush of buyers for the last uses is counted one buyer at a time: with
ten uses left, exactly ten payments begin with the discount, and the rest are told it is used
up before they pay. A discount without limits locks nothing.

Money moved wins: a payment that arrives after its use was released (a late payment) keeps the
discount it was charged with, and when the limits had no room left for it by then, the use is
marked `late` and staff are told, as with oversold stock.

Every function runs in the caller's transaction, with the order's row locked by the lifecycle.
"""

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.common.notices import notify_staff
from kassa.orders import discount_rules
from kassa.orders.errors import CartNeedsChanges
from kassa.orders.models import Discount, DiscountUse, Order, OrderLine
from kassa.orders.pricing import Totals, order_totals

logger = logging.getLogger(__name__)
State = DiscountUse.State


class DiscountUsedUp(CartNeedsChanges):
    code = "discount_used_up"


def begin(*, order: Order, lines: list[OrderLine]) -> list[str]:
    """Check an open order's discounts as its payment begins, keep the automatic one it gets
    on the order, and hold a use of each. Raises CartNeedsChanges naming why a code stopped
    applying (the customer removes it to pay), DiscountUsedUp when no use is left. Returns the
    order's fields changed (the caller saves them)."""
    totals = order_totals(order, lines, shipping=0)
    if order.discount_id is not None and totals.code is None:
        raise CartNeedsChanges(totals.code_problem)
    freeze(totals)
    fields = []
    if order.promotion_id != (totals.promotion.pk if totals.promotion else None):
        order.promotion = totals.promotion
        fields.append("promotion")
    for discount in (totals.code, totals.promotion):
        if discount is not None:
            hold(order=order, discount=discount, automatic=discount is totals.promotion)
    return fields


def freeze(totals: Totals) -> None:
    """Keep on each line what the cart's discounts did to it, as its payment begins."""
    for part in totals.lines:
        line = part.line
        cut = part.list_unit_amount - part.unit_amount
        covers = totals.code is None or discount_rules.covers(totals.code, line.item)
        if (line.promotion_unit_cut, line.code_covers) != (cut, covers):
            line.promotion_unit_cut, line.code_covers = cut, covers
            if line.pk is not None:
                line.save(update_fields=["promotion_unit_cut", "code_covers"])


def hold(*, order: Order, discount: Discount, automatic: bool = False) -> None:
    """Take a use of `discount` for `order`, or refuse (DiscountUsedUp) if none is left. A
    discount without limits keeps no uses: its orders are what it was used by."""
    if not discount_rules.counts_uses(discount):
        return
    # One buyer at a time for a discount whose uses are counted (see the module's notes).
    locked = Discount.objects.select_for_update().get(pk=discount.pk)
    if DiscountUse.objects.filter(discount=discount, order=order, state=State.HELD).exists():
        return  # held by an earlier attempt of this payment
    email, user_id = discount_rules.customer_of(order)
    problem = discount_rules.use_refusal(locked, order_id=order.pk, email=email, user_id=user_id)
    if problem:
        raise DiscountUsedUp(_ran_out(discount) if automatic else problem)
    DiscountUse.objects.create(discount=discount, order=order, email=email, user_id=user_id)


def _ran_out(discount: Discount) -> str:
    return _(
        "The offer “%(name)s” has just run out: your cart now shows its prices without it."
    ) % {"name": discount.name}


def release(*, order: Order) -> int:
    """The payment closed without money: its held uses count no more. Returns how many."""
    if order.discount_id is None and order.promotion_id is None:
        return 0
    return DiscountUse.objects.filter(order=order, state=State.HELD).update(
        state=State.RELEASED, closed_at=timezone.now()
    )


def finish(*, order: Order) -> list[DiscountUse]:
    """`order` is paid: its held uses are used, and a discount it was charged with that holds
    no use (released before the payment arrived) takes one now, marked late if its limits
    had no room left. Returns the late ones (staff are told)."""
    now = timezone.now()
    email = order.email
    counted = [
        d
        for d in (order.discount, order.promotion)
        if d is not None and discount_rules.counts_uses(d)
    ]
    if not counted:
        return []
    held = {
        use.discount_id: use for use in DiscountUse.objects.filter(order=order, state=State.HELD)
    }
    late = []
    for discount in counted:
        use = held.pop(discount.pk, None)
        if use is not None:
            if not use.email and email and discount.max_uses_per_customer is not None:
                # The buyer was unknown when it was held (a guest): their e-mail counts now.
                use.late = (
                    discount_rules.use_refusal(
                        discount, order_id=order.pk, email=email, user_id=order.user_id
                    )
                    is not None
                )
                if use.late:
                    late.append(use)
            use.state, use.closed_at = State.USED, now
            use.email = use.email or email
            use.save(update_fields=["state", "closed_at", "email", "late"])
            continue
        if DiscountUse.objects.filter(discount=discount, order=order, state=State.USED).exists():
            continue
        problem = discount_rules.use_refusal(
            discount, order_id=order.pk, email=email, user_id=order.user_id
        )
        late_use = DiscountUse.objects.create(
            discount=discount,
            order=order,
            email=email,
            user_id=order.user_id,
            state=State.USED,
            closed_at=now,
            late=problem is not None,
        )
        if late_use.late:
            late.append(late_use)
    DiscountUse.objects.filter(pk__in=[use.pk for use in held.values()]).update(
        state=State.RELEASED, closed_at=now
    )
    if late:
        names = ", ".join(f"“{use.discount.name}”" for use in late)
        logger.warning("order %s was paid with discounts beyond their limits: %s", order.pk, names)
        notify_staff(
            key=f"discount-late:{order.pk}",
            subject=f"Order #{order.pk} was paid with a discount beyond its limits",
            body=(
                f"Order #{order.pk} was paid after its hold on {names} was released, and the "
                "discount had no use left by then. The customer keeps what they were charged; "
                "the use is marked beyond its limits in the admin (Discount uses)."
            ),
        )
    return late
