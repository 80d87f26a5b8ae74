"""Reads of orders, always scoped to the visitor who owns them."""

from datetime import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.http import Http404

from kassa.catalog.models import Item
from kassa.orders.models import Order, OrderLine, ShippingRate, Tax
from kassa.orders.visitors import Visitor


def _with_everything(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with lines, items, discount and tax loaded in a fixed number of queries."""
    return orders.select_related("discount", "promotion", "tax").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("item"))
    )


def order_list(*, visitor: Visitor) -> QuerySet[Order]:
    return _with_everything(Order.objects.filter(visitor.owns()))


def order_get(*, visitor: Visitor, order_id: int) -> Order:
    """The visitor's order; someone else's order is a 404, as if it did not exist."""
    order = _with_everything(Order.objects.filter(visitor.owns(), pk=order_id)).first()
    if order is None:
        raise Http404("No such order.")
    return order


def order_by_link(*, order_id: int) -> Order:
    """An order its signed link names: only a paid one (a cart has no link)."""
    order = _with_everything(Order.objects.filter(pk=order_id)).first()
    if order is None or not order.is_paid:
        raise Http404("No such order.")
    return order


def _carts(visitor: Visitor) -> QuerySet[Order]:
    """The visitor's open orders, newest first: the first is their cart."""
    return Order.objects.filter(visitor.owns(), status=Order.Status.OPEN).order_by(
        "-created_at", "-id"
    )


def cart_get(*, visitor: Visitor) -> Order | None:
    """The visitor's cart: their newest open order."""
    return _carts(visitor).first()


def cart_summary(*, visitor: Visitor) -> tuple[int, int] | None:
    """The cart's id and how many items it holds, in one query; None without a cart."""
    cart = (
        _carts(visitor).annotate(item_count=Sum("lines__quantity")).values_list("pk", "item_count")
    ).first()
    if cart is None:
        return None
    pk, count = cart
    return pk, count or 0


def buy_now_order_in_payment(
    *, visitor: Visitor, item: Item, quantity: int, tax: Tax | None
) -> Order | None:
    """The visitor's newest order in payment that is what a Buy now click of `item` makes today:
    `quantity` of the item, at its price now, with no discount and the tax new orders get. A
    repeated click may answer its payment again (kassa.payments.flow.checkout_buy)."""
    return _buy_now_in_payment(visitor.owns(), item=item, quantity=quantity, tax=tax)


def buy_now_order_placed_from(
    *, placed_from: str, since: datetime, item: Item, quantity: int, tax: Tax | None
) -> Order | None:
    """The newest order in payment placed from the network `placed_from` (kassa.orders.holds)
    since `since` that a Buy now click of `item` makes today: a click again from a client that
    keeps no cookie (a script, a private window refusing them) may answer its payment."""
    if not placed_from:
        return None
    return _buy_now_in_payment(
        Q(placed_from=placed_from, created_at__gte=since), item=item, quantity=quantity, tax=tax
    )


def _buy_now_in_payment(owners: Q, *, item: Item, quantity: int, tax: Tax | None) -> Order | None:
    other_lines = OrderLine.objects.filter(order=OuterRef("pk")).exclude(item=item)
    return (
        Order.objects.filter(
            owners,
            status=Order.Status.PENDING,
            currency=item.currency,
            discount=None,
            tax=tax,
            lines__item=item,
            lines__quantity=quantity,
            lines__unit_price=item.price,
        )
        .exclude(Exists(other_lines))
        .order_by("-created_at", "-id")
        .first()
    )


def currencies_without_shipping_rate() -> list[str]:
    """Currencies of items on sale that are sent, for which the shop has no active shipping
    rate: customers cannot pay for them until staff add one."""
    sent = set(
        Item.objects.filter(is_active=True, requires_shipping=True).values_list(
            "currency", flat=True
        )
    )
    rated = set(ShippingRate.objects.filter(active=True).values_list("currency", flat=True))
    return sorted(sent - rated)
