"""The cart: what a customer changes in their open order (items, quantities, a discount code),
and Buy now's one-line order. Every function is keyword-only and atomic (order_create_for_item
runs in the transaction of the payment attempt it is created for)."""

from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from kassa.catalog.models import Item
from kassa.common.inserts import Together
from kassa.common.money import MAX_MINOR_AMOUNT
from kassa.orders import (
    cart_versions,
    checkout_defaults,
    discount_rules,
    discount_uses,
    holds,
    lifecycle,
    limits,
    stock,
)
from kassa.orders.errors import (
    CurrencyMismatch,
    InvalidDiscountCode,
    InvalidQuantity,
    ItemOffSale,
    OrderNotEditable,
)
from kassa.orders.models import MAX_QUANTITY, Discount, Order, OrderLine
from kassa.orders.pricing import Totals, order_totals
from kassa.orders.selectors import cart_get
from kassa.orders.visitors import Visitor


def _check_quantity(quantity: int, *, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if not low <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(
            _("The quantity must be a whole number from %(low)s to %(high)s.")
            % {"low": low, "high": MAX_QUANTITY}
        )


def _lock_editable(order: Order) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if not locked.is_editable:
        raise OrderNotEditable(
            _(
                "This order's checkout has started, so it cannot be changed. "
                "Cancel the checkout first to edit it."
            )
        )
    return locked


def _check_total(order: Order, lines: list[OrderLine] | None = None) -> Totals:
    """What the order would charge, tax included, must be within what Stripe can take at once."""
    if lines is None:
        lines = list(order.lines.select_related("item"))
    totals = order_totals(order, lines)
    if totals.total > MAX_MINOR_AMOUNT:
        raise InvalidQuantity(_("That would make the order larger than can be paid at once."))
    return totals


def order_create_for_item(
    *, item: Item, visitor: Visitor, rows: Together, quantity: int = 1
) -> tuple[Order, list[OrderLine]]:
    """A one-line order for an immediate purchase ("Buy" on the item page), born pending in the
    caller's transaction, which records its first payment attempt; with its lines as made, so
    the payment need not read them back. The order and its line are added to `rows`, for the
    caller to write with the attempt and the reservation (kassa.common.inserts).

    The caller holds the lines' stock (`stock.reserve`) last in that transaction: the item's
    row stays locked from then until the commit, and every buyer of a popular item queues on it.
    """
    _check_quantity(quantity)
    _check_on_sale(item)
    order = Order(
        currency=item.currency,
        visitor_token=visitor.token,
        user_id=visitor.user_id,
        placed_from=holds.placed_from(visitor),
        tax=checkout_defaults.default_tax(item.currency),
    )
    # The sale running now, if one covers the item (read while the order is still a cart).
    line = OrderLine(item=item, quantity=quantity, unit_price=item.price)
    as_cart = order_totals(order, [line], shipping=0)
    order.promotion = as_cart.promotion
    discount_uses.freeze(as_cart)
    lifecycle.order_create_pending(order=order, rows=rows)
    line.order = order
    rows.add(line)
    if order.promotion is not None:
        rows.write()  # a sale's use is held by the order's id
        discount_uses.hold(order=order, discount=order.promotion, automatic=True)
    # Paid at once: Stripe's smallest charge is checked here, before Stripe is asked.
    limits.check_payable(_check_total(order, [line]))
    checkout_defaults.check_shipping_rate(currency=order.currency, lines=[line])
    return order, [line]


def _check_on_sale(item: Item) -> None:
    if not item.is_active:
        raise ItemOffSale(_("%(item)s is no longer on sale.") % {"item": item.name})


@transaction.atomic
def cart_add_item(*, visitor: Visitor, item: Item, quantity: int = 1) -> tuple[Order, bool]:
    """Add `quantity` of `item` to the visitor's cart, creating the cart on the first add.

    Returns the cart and whether it was created. A cart holds one currency: an item in another
    currency is refused and the cart is left as it was, unless the cart is empty, which then
    takes the item's currency (dropping a fixed-amount discount in the old one). A cart made
    before its visitor logged in becomes their account's.
    """
    _check_quantity(quantity)
    _check_on_sale(item)
    cart, created = _cart_get_or_create(visitor=visitor, currency=item.currency)
    if not created:
        cart = _lock_editable(cart)
        if cart.user_id is None and visitor.user_id is not None:
            cart.user_id = visitor.user_id
            cart.save(update_fields=["user"])
        if visitor.address and cart.placed_from != holds.placed_from(visitor):
            # Where the cart is filled is where its payment will start from.
            cart.placed_from = holds.placed_from(visitor)
            cart.save(update_fields=["placed_from"])
    if cart.currency != item.currency and not cart.lines.exists():
        cart.currency = item.currency
        if cart.discount and not cart.discount.applies_to(cart.currency):
            cart.discount = None
        if cart.tax is None or cart.tax.applies_to_every_order:
            cart.tax = checkout_defaults.default_tax(
                cart.currency
            )  # the new currency's own default
        cart.save(update_fields=["currency", "discount", "tax"])
    if cart.currency != item.currency:
        raise CurrencyMismatch(
            _(
                "Your cart is in %(cart)s and this item is priced in %(item)s. "
                "Pay for the cart first, or empty it, to buy this item."
            )
            % {"cart": cart.currency.upper(), "item": item.currency.upper()}
        )
    line = OrderLine.objects.filter(order=cart, item=item).first()
    if line is None:
        limits.check_lines(cart.lines.count() + 1)
        stock.check_available(item=item, quantity=quantity)
        OrderLine.objects.create(order=cart, item=item, quantity=quantity, unit_price=item.price)
    else:
        _check_quantity(line.quantity + quantity)
        stock.check_available(item=item, quantity=line.quantity + quantity)
        line.quantity += quantity
        line.save(update_fields=["quantity"])
    _check_total(cart)
    cart.save(update_fields=["updated_at"])
    cart_versions.cart_changed(cart)
    return cart, created


def _cart_get_or_create(*, visitor: Visitor, currency: str) -> tuple[Order, bool]:
    """The visitor's cart, or a new one. The database keeps one open order per visitor token
    (`order_one_cart_per_visitor`): a concurrent first add (a double-click, several tabs) that
    committed its cart first makes our insert fail, and we take that cart instead."""
    cart = cart_get(visitor=visitor)
    if cart is not None:
        return cart, False
    try:
        with transaction.atomic():
            cart = Order.objects.create(
                currency=currency,
                visitor_token=visitor.token,
                user_id=visitor.user_id,
                placed_from=holds.placed_from(visitor),
                tax=checkout_defaults.default_tax(currency),
            )
        return cart, True
    except IntegrityError:
        cart = cart_get(visitor=visitor)
        if cart is None:
            raise  # not the cart constraint: let it be seen
        return cart, False


@transaction.atomic
def order_set_quantity(*, order: Order, line_id: int, quantity: int) -> None:
    """Change a line's quantity; 0 removes the line."""
    _check_quantity(quantity, allow_zero=True)
    locked = _lock_editable(order)
    line = OrderLine.objects.filter(order=locked, pk=line_id).select_related("item").first()
    if line is None:
        raise InvalidQuantity(_("That line is not in this order."))
    if quantity == 0:
        line.delete()
    else:
        if quantity > line.quantity:  # lowering a quantity is how a cart beyond stock is fixed
            stock.check_available(item=line.item, quantity=quantity)
        line.quantity = quantity
        line.save(update_fields=["quantity"])
        _check_total(locked)
    locked.save(update_fields=["updated_at"])
    cart_versions.cart_changed(locked)


@transaction.atomic
def order_apply_discount_code(*, order: Order, code: str) -> Discount:
    """The cart's code box, for a discount code: the discount it names, if its rules and uses
    allow it for this cart now; refused (InvalidDiscountCode) with the reason otherwise."""
    locked = _lock_editable(order)
    code = code.strip()
    discount = (
        Discount.objects.annotate(code_upper=Upper("code"))
        .filter(code_upper=code.upper())
        .exclude(code="")
        .first()
        if code
        else None
    )
    if not code:
        raise InvalidDiscountCode(_("Type a discount code."))
    if discount is None:
        raise InvalidDiscountCode(_("There is no discount code “%(code)s”.") % {"code": code[:40]})
    lines = list(locked.lines.select_related("item"))
    locked.discount = discount
    totals = order_totals(locked, lines)
    cart = discount_rules.Cart(currency=locked.currency, lines=lines, subtotal=totals.subtotal)
    email, user_id = discount_rules.customer_of(locked)
    problem = discount_rules.refusal(discount, cart) or discount_rules.use_refusal(
        discount, order_id=locked.pk, email=email, user_id=user_id
    )
    if problem:
        raise InvalidDiscountCode(problem)
    locked.save(update_fields=["discount", "updated_at"])
    return discount


@transaction.atomic
def order_remove_discount(*, order: Order) -> None:
    locked = _lock_editable(order)
    locked.discount = None
    locked.save(update_fields=["discount", "updated_at"])
