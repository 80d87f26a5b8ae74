"""One open cart per visitor: what happens when a second one would appear.

The database holds at most one open order per visitor token (the `order_one_cart_per_visitor`
constraint). A cart is taken with get-or-create under it (kassa.orders.cart.cart_add_item), so a
double-click or ten tabs adding at once make one cart. The other way a second open order could
appear is an order going back to open (lifecycle.order_reopen: its payment was cancelled,
expired or failed) while its visitor has started a newer cart meanwhile — a Buy now cancelled
beside a cart, or a cart filled while another was in Checkout.

What the customer expects then: the order they just stopped paying for is their cart again (the
cancel page and the order's own page show it), and nothing they put in the newer cart is lost.
So the newer cart's lines join the reopened order (quantities of one item add up, to the most a
line may hold), its discount comes along if the reopened order has none, and the newer cart is
removed. A newer cart that cannot be removed (it had payment attempts of its own, the history
staff keep) is emptied and set aside, no longer anyone's cart; one in another currency cannot
join (an order is paid in one currency) and is set aside with its lines, for staff to see among
the abandoned carts. All of it runs in the reopening transaction, with the reopened order locked
first and the newer carts after it, as every path here locks order first.
"""

import logging

from django.db import transaction
from django.db.models import ProtectedError, Q

from kassa.orders import cart_versions
from kassa.orders.models import MAX_QUANTITY, Order, OrderLine

logger = logging.getLogger(__name__)


def cart_merge_newer_into(*, order: Order) -> list[int]:
    """Fold the visitor's other open orders into `order` (locked by the caller, about to be
    open again). Returns the ids of the orders folded in."""
    if not order.visitor_token:
        return []
    others = list(
        Order.objects.select_for_update()
        .filter(visitor_token=order.visitor_token, status=Order.Status.OPEN)
        .exclude(pk=order.pk)
        .order_by("pk")
    )
    for other in others:
        _fold(order, other)
    return [other.pk for other in others]


def cart_merge_at_sign_in(*, visitor_token: str, user_id: int) -> Order | None:
    """A customer signed in: this browser's cart (`visitor_token`) and the carts of their account
    (made on other devices) become one, by the rules above. The account's newest cart takes the
    others in; without one, this browser's cart becomes the account's. Returns the cart."""
    mine = Q(user_id=user_id)
    if visitor_token:
        mine |= Q(visitor_token=visitor_token)
    with transaction.atomic():
        carts = list(
            Order.objects.select_for_update().filter(mine, status=Order.Status.OPEN).order_by("pk")
        )
        if not carts:
            return None
        accounts = [cart for cart in carts if cart.user_id == user_id]
        order = accounts[-1] if accounts else carts[-1]
        if order.user_id != user_id:
            order.user_id = user_id
            order.save(update_fields=["user", "updated_at"])
            cart_versions.cart_changed(order)
        for other in carts:
            if other.pk != order.pk:
                _fold(order, other)
    return order


def _fold(order: Order, other: Order) -> None:
    """`other`'s lines and discount join `order` (both locked); `other` is removed."""
    # Their owners' headers change whichever way it goes (`order` takes `other`'s user).
    cart_versions.cart_changed(order, other)
    if other.currency != order.currency:
        _set_aside(other, why=f"in {other.currency}, beside order {order.pk}")
        return
    for line in OrderLine.objects.filter(order=other):
        mine = OrderLine.objects.filter(order=order, item_id=line.item_id).first()
        if mine is None:
            line.order = order
            line.save(update_fields=["order"])
        else:
            mine.quantity = min(mine.quantity + line.quantity, MAX_QUANTITY)
            mine.save(update_fields=["quantity"])
    fields = ["updated_at"]
    if order.discount_id is None and other.discount_id is not None:
        order.discount_id = other.discount_id
        fields.append("discount")
    if order.user_id is None and other.user_id is not None:
        order.user_id = other.user_id
        fields.append("user")
    order.save(update_fields=fields)
    logger.info("order %s: cart %s merged into it", order.pk, other.pk)
    try:
        with transaction.atomic():
            Order.objects.filter(pk=other.pk).delete()
    except ProtectedError:
        _set_aside(other, why=f"merged into order {order.pk}")


def _set_aside(order: Order, *, why: str) -> None:
    Order.objects.filter(pk=order.pk).update(visitor_token="", user=None)
    logger.info("order %s: set aside, no longer a visitor's cart (%s)", order.pk, why)
