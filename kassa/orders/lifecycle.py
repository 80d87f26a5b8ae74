"""An order's status, and the only code that changes it.

    open ──checkout started──▶ pending ──paid──▶ paid ──refund──▶ partially_refunded / refunded
      ▲                           │                 ▲                         │
      └──cancelled / expired / failed               └──a refund failed later──┘

Each transition is one idempotent function: calling it again, or for an event that arrives late
or out of order, changes nothing. Every change is logged as an OrderStatusChange.

Stock moves with the status (kassa.orders.stock): beginning a payment holds the order's units
and freezes its lines at the current prices, reopening or discarding it releases them, paying
sells them.
"""

import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from kassa.common.address import Address, Contact
from kassa.common.inserts import Together
from kassa.orders import cart_versions, checkout_defaults, discount_uses, limits, signals, stock
from kassa.orders.cart_merge import cart_merge_newer_into
from kassa.orders.charge import ChargeDetails
from kassa.orders.errors import CartNeedsChanges, EmptyOrder, OrderNotEditable
from kassa.orders.models import Order, OrderLine, OrderStatusChange, ShippingRate
from kassa.orders.pricing import order_totals
from kassa.orders.shipping import ShippingCharge

logger = logging.getLogger(__name__)
S = Order.Status

_ALLOWED = {
    S.OPEN: {S.PENDING, S.PAID},  # paid from open: money moved, so it is recorded regardless
    S.PENDING: {S.OPEN, S.PAID},
    S.PAID: {S.PARTIALLY_REFUNDED, S.REFUNDED},
    # Back down when a refund fails after it succeeded: the money came back to the shop.
    S.PARTIALLY_REFUNDED: {S.PARTIALLY_REFUNDED, S.REFUNDED, S.PAID},
    S.REFUNDED: {S.PARTIALLY_REFUNDED, S.PAID},
}


def _shopping_language() -> str:
    """The language of the request starting the payment (the customer's), for their mail."""
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _lock(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _move(order: Order, to: str, *, source: str, fields: list[str]) -> None:
    if to not in _ALLOWED[S(order.status)]:
        raise OrderNotEditable(f"An order cannot go from {order.status} to {to}.")
    OrderStatusChange.objects.create(
        order=order, from_status=order.status, to_status=to, source=source[:80]
    )
    logger.info("order %s: %s -> %s (%s)", order.pk, order.status, to, source)
    was = order.status
    order.status = to
    order.save(update_fields=["status", "updated_at", *fields])
    if S.OPEN in (was, to):
        # A cart leaves the header when its checkout starts, and comes back when it reopens.
        cart_versions.cart_changed(order)


def order_begin_payment(*, order: Order) -> None:
    """Freeze `order` for a payment attempt: open becomes pending; a pending order stays so.

    Runs in the caller's transaction and keeps the order's row locked until it commits, so two
    attempts of one order begin one after the other (the payments app numbers them under it).
    """
    if not transaction.get_connection().in_atomic_block:
        raise OrderNotEditable("A payment attempt begins inside the transaction that records it.")
    locked = _lock(order.pk)
    if locked.status not in (S.OPEN, S.PENDING):
        raise OrderNotEditable(_("This order has already been paid."))
    lines = list(OrderLine.objects.filter(order=locked).select_related("item"))
    if not lines:
        raise EmptyOrder(_("The order is empty: add an item before paying."))
    if locked.status == S.PENDING:
        stock.extend(order=locked)
    if locked.status == S.OPEN:
        _freeze_lines(lines)
        # A code that stopped applying stops the payment (the cart says why); the automatic
        # discount the cart gets is kept on the order, and a use of each is held.
        fields = discount_uses.begin(order=locked, lines=lines)
        # What Stripe would refuse is refused before it is asked (kassa.orders.limits).
        limits.check_payable(order_totals(locked, lines, shipping=0))
        checkout_defaults.check_shipping_rate(currency=locked.currency, lines=lines)
        locked.language = _shopping_language()
        _move(locked, S.PENDING, source="checkout started", fields=[*fields, "language"])
        # After the order's own writes: the items' rows stay locked from here to the commit.
        stock.reserve(order=locked, lines=lines)
    order.status, order.discount = locked.status, locked.discount
    order.promotion = locked.promotion


def _freeze_lines(lines: list[OrderLine]) -> None:
    """A cart charges the catalog's prices until its payment begins: then they are the lines'.
    An item taken off sale stops the payment: the cart says so, and the customer removes it."""
    for line in lines:
        if not line.item.is_active:
            raise CartNeedsChanges(
                _("%(item)s is no longer on sale: remove it from the cart to pay for the rest.")
                % {"item": line.item.name}
            )
    for line in lines:
        if line.unit_price != line.item.price:
            line.unit_price = line.item.price
            line.save(update_fields=["unit_price"])


def order_create_pending(*, order: Order, rows: Together) -> None:
    """Add a new order straight into its first payment attempt (pending) to `rows`, which the
    caller writes in this transaction with the order's lines. No one else knows the order yet,
    so there is nothing to lock and no line count to check: the row is inserted pending, with no
    UPDATE after it (a Buy click's one-line order). Its status log reads open -> pending,
    "checkout started", as any order's first attempt does.
    """
    if not transaction.get_connection().in_atomic_block or not order._state.adding:
        raise OrderNotEditable("Only an order being created can begin its first payment here.")
    order.status = S.PENDING
    order.language = _shopping_language()
    # Written as the Buy click writes its rows (kassa.common.inserts): the busiest write's.
    rows.add(order)
    rows.add(
        OrderStatusChange(
            order=order, from_status=S.OPEN, to_status=S.PENDING, source="checkout started"
        )
    )
    rows.when_written(
        lambda: logger.info("order %s: new -> %s (checkout started)", order.pk, order.status)
    )


@transaction.atomic
def order_discard(*, order_id: int, source: str) -> bool:
    """Remove an order that existed only for a payment that never started (a Buy click whose
    Checkout Session Stripe could not make): nothing half-written is left behind. Only a
    pending order that was never paid goes; the caller removes its own records of it first."""
    locked = _lock(order_id)
    if locked.status != S.PENDING or locked.paid_at is not None:
        return False
    logger.info("order %s: discarded (%s)", order_id, source)
    stock.release(order=locked)
    discount_uses.release(order=locked)
    locked.delete()
    return True


@transaction.atomic
def order_reopen(*, order_id: int, source: str) -> bool:
    """Pending back to open: its payment was cancelled, expired, failed or never started.
    The payments app calls it once the order has no payable attempt left.

    It becomes its visitor's cart again: a cart they started meanwhile is merged into it
    (kassa.orders.cart_merge says why and how). One started concurrently, not yet committed when we
    looked, makes the move fail on the one-cart constraint: then we look again and merge it.
    """
    locked = _lock(order_id)
    if locked.status != S.PENDING:
        return False
    stock.release(order=locked)
    discount_uses.release(order=locked)
    for tries_left in reversed(range(3)):
        cart_merge_newer_into(order=locked)
        try:
            with transaction.atomic():
                _move(locked, S.OPEN, source=source, fields=[])
        except IntegrityError:
            locked.status = S.PENDING
            if not tries_left:
                raise
        else:
            signals.order_cancelled.send(sender=Order, order_id=locked.pk)
            return True
    return False  # not reached: the last try returns or raises


def _record_buyer(
    order: Order, contact: Contact, address: Address | None, shipping: ShippingCharge
) -> list[str]:
    """Copy what was collected onto the order; the fields changed."""
    fields = [*order.record_contact(contact), *order.record_shipping_address(address)]
    order.shipping_method = shipping.method[:200]
    order.shipping_amount = shipping.amount
    rate = shipping.rate_id
    order.shipping_rate = ShippingRate.objects.filter(pk=rate).first() if rate else None
    return [*fields, "shipping_method", "shipping_amount", "shipping_rate"]


@transaction.atomic
def order_mark_paid(
    *,
    order_id: int,
    amount: int,
    source: str,
    contact: Contact | None = None,
    address: Address | None = None,
    shipping: ShippingCharge | None = None,
    details: ChargeDetails | None = None,
) -> bool:
    """Record a payment Stripe confirmed, with who paid (`contact`), where it goes (`address`)
    and the shipping chosen. Returns False if the order was already paid. The order's
    confirmation mails are queued with it (signals)."""
    locked = _lock(order_id)
    shipping = shipping or ShippingCharge()
    if locked.is_paid:
        if contact is not None and not locked.email and contact.email:
            # Paid through a report that carried no details (an old event): fill them in.
            fields = _record_buyer(locked, contact, address, shipping)
            locked.save(update_fields=[*fields, "updated_at"])
        return False
    locked.amount_paid = amount
    locked.paid_at = timezone.now()
    stock.sell(order=locked)
    fields = ["amount_paid", "paid_at", "fulfilment_status"]
    if contact is not None:
        fields += _record_buyer(locked, contact, address, shipping)
    if details is not None:
        fields += _record_details(locked, details)
    discount_uses.finish(order=locked)
    if not locked.language:
        locked.language = settings.LANGUAGE_CODE
        fields.append("language")
    ships = OrderLine.objects.filter(order=locked, item__requires_shipping=True).exists()
    locked.fulfilment_status = (
        Order.Fulfilment.UNFULFILLED if ships else Order.Fulfilment.NOT_REQUIRED
    )
    _move(locked, S.PAID, source=source, fields=fields)
    signals.order_paid.send(sender=Order, order_id=locked.pk)
    return True


@transaction.atomic
def order_offer_recovery(*, order_id: int, email: str, source: str) -> bool:
    """A customer who agreed to hear from the shop left the order's checkout unpaid: one
    reminder is offered (signals), once per order, never for a paid one."""
    locked = _lock(order_id)
    if locked.is_paid or locked.recovery_offered_at is not None or not email:
        return False
    locked.recovery_email = email[:254]
    locked.recovery_offered_at = timezone.now()
    locked.save(update_fields=["recovery_email", "recovery_offered_at", "updated_at"])
    logger.info("order %s: a reminder is offered (%s)", order_id, source)
    signals.order_abandoned.send(sender=Order, order_id=locked.pk)
    return True


def _record_details(order: Order, details: ChargeDetails) -> list[str]:
    """What Stripe reported beside the amount: its tax, the buyer's currency, a business."""
    order.tax_computed_by_stripe = details.tax_by_stripe
    order.tax_amount = details.tax_amount
    order.tax_inclusive = details.tax_inclusive
    order.tax_breakdown = [
        {"name": s.name, "rate": s.rate, "amount": s.amount, "inclusive": s.inclusive}
        for s in details.tax_shares
    ]
    order.presentment_currency = details.presentment_currency[:3]
    order.presentment_amount = details.presentment_amount
    order.buyer_company = details.company[:200]
    order.buyer_tax_id = details.tax_id[:100]
    for line_id, amount in details.line_taxes:
        OrderLine.objects.filter(order=order, pk=line_id).update(tax_amount=amount)
    return [
        "tax_computed_by_stripe",
        "tax_amount",
        "tax_inclusive",
        "tax_breakdown",
        "presentment_currency",
        "presentment_amount",
        "buyer_company",
        "buyer_tax_id",
    ]


@transaction.atomic
def order_mark_shipped(
    *, order_id: int, carrier: str, tracking_number: str, tracking_url: str, source: str
) -> bool:
    """Staff sent the goods: the order's shipped notice is queued with it. False if it was not
    waiting to be shipped (not paid, nothing to ship, or shipped already)."""
    locked = _lock(order_id)
    if locked.status != S.PAID or locked.fulfilment_status != Order.Fulfilment.UNFULFILLED:
        return False
    locked.fulfilment_status = Order.Fulfilment.SHIPPED
    locked.carrier, locked.tracking_number = carrier[:100], tracking_number[:100]
    locked.tracking_url = tracking_url[:500]
    locked.shipped_at = timezone.now()
    locked.save(
        update_fields=[
            "fulfilment_status",
            "carrier",
            "tracking_number",
            "tracking_url",
            "shipped_at",
            "updated_at",
        ]
    )
    logger.info("order %s: shipped (%s)", locked.pk, source)
    signals.order_shipped.send(sender=Order, order_id=locked.pk)
    return True


@transaction.atomic
def order_mark_delivered(*, order_id: int, source: str) -> bool:
    """The goods arrived. False unless the order was shipped and not yet delivered."""
    locked = _lock(order_id)
    if locked.fulfilment_status != Order.Fulfilment.SHIPPED:
        return False
    locked.fulfilment_status = Order.Fulfilment.DELIVERED
    locked.delivered_at = timezone.now()
    locked.save(update_fields=["fulfilment_status", "delivered_at", "updated_at"])
    logger.info("order %s: delivered (%s)", locked.pk, source)
    signals.order_delivered.send(sender=Order, order_id=locked.pk)
    return True


@transaction.atomic
def order_mark_refunded(
    *, order_id: int, amount_refunded: int, source: str, customer_told: bool = False
) -> bool:
    """Record the total refunded so far: what Stripe refunded and did not take back. It goes
    down when a refund fails after it succeeded (the order is paid again, or partially
    refunded). The customer's refund notice is queued when it goes up, unless the caller
    tells them itself (`customer_told`). False if unchanged."""
    locked = _lock(order_id)
    if not locked.is_paid or amount_refunded == locked.amount_refunded or amount_refunded < 0:
        return False
    paid = locked.amount_paid or 0
    more = amount_refunded > locked.amount_refunded
    if amount_refunded == 0:
        to = S.PAID
    else:
        to = S.REFUNDED if amount_refunded >= paid else S.PARTIALLY_REFUNDED
    locked.amount_refunded = amount_refunded
    fields = ["amount_refunded"]
    if more:
        locked.refunded_at = timezone.now()
        fields.append("refunded_at")
    if to == locked.status and to != S.PARTIALLY_REFUNDED:
        # Refunded before and still (a failed refund among several that succeeded in full).
        locked.save(update_fields=[*fields, "updated_at"])
    else:
        _move(locked, to, source=source, fields=fields)
    if more:
        signals.order_refunded.send(
            sender=Order,
            order_id=locked.pk,
            amount_refunded=amount_refunded,
            customer_told=customer_told,
        )
    return True


@transaction.atomic
def order_return_stock(
    *, order_id: int, source: str, items: Mapping[int, int] | None = None
) -> int:
    """What came back of a paid order goes back on sale: `items` maps an item's id to its
    units; None means all the order took. Never more than it took: returned units are not
    returned again. Returns the units."""
    locked = _lock(order_id)
    if not locked.is_paid:
        return 0
    units = stock.restock(order=locked, items=items)
    logger.info("order %s: %s units back in stock (%s)", order_id, units, source)
    return units
