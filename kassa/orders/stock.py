"""Stock: holding an order's units while it is paid, selling them when paid, giving them back.

Available = Item.stock - Item.reserved. Units are taken by one conditional UPDATE per item
(`reserved = reserved + n WHERE stock - reserved >= n`): the database checks and takes in one
statement, so no interleaving of buyers can hold a unit twice (the check-then-act race of
django-oscar#4524), and the CHECK constraint `reserved <= stock` is the last line behind it.
Rows are updated in item order, so two checkouts of the same items cannot deadlock.

Every function runs in its caller's transaction, with the order's row locked by the lifecycle
(kassa.orders.lifecycle), which is the only caller besides refunds' restock.

Money moved wins: a payment that arrives after its reservation was released (a late async
payment, a PaymentIntent confirmed while it was being cancelled) is sold all the same, from
what is available, and the order is flagged oversold for what was missing. Staff get an e-mail
queued with the payment, and after the commit `notify_oversold` logs it and sends
`order_oversold`, the hook other code can listen to.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.catalog import revision
from kassa.catalog.models import Item
from kassa.common.errors import Conflict
from kassa.common.inserts import Together
from kassa.common.notices import notify_staff
from kassa.metrics import instruments as metrics
from kassa.orders import holds
from kassa.orders.models import Order, OrderLine, Reservation

logger = logging.getLogger(__name__)
State = Reservation.State

# Sent after commit with `order_id` and `shortages` ([(item name, units short)]): an order was
# paid for more than the stock had. A hook for other code; the staff e-mail does not wait for it.
order_oversold = Signal()
# Sent in the transaction of a stock movement (a reservation, its release, a late sale, a
# restock) with `item_id` and the units available `before` and `after` it: the hook for
# "stock low" and "sold out" events, without this layer knowing who listens.
availability_changed = Signal()


class OutOfStock(Conflict):
    code = "out_of_stock"


@dataclass(frozen=True)
class Shortage:
    item_id: int
    name: str
    wanted: int
    available: int


def reservation_deadline() -> datetime:
    """Until when a payment beginning now holds its units."""
    return timezone.now() + timedelta(minutes=settings.CHECKOUT_RESERVATION_MINUTES)


def shortage_message(shortage: Shortage) -> str:
    if shortage.available <= 0:
        return _("%(item)s is sold out.") % {"item": shortage.name}
    return _("Only %(count)s of %(item)s left; you asked for %(wanted)s.") % {
        "count": shortage.available,
        "item": shortage.name,
        "wanted": shortage.wanted,
    }


def check_available(*, item: Item, quantity: int) -> None:
    """Refuse `quantity` of `item` if fewer are available now (a cart's add, a quantity set);
    the payment's reservation checks again, in the database."""
    if item.stock is None:
        return
    fresh = Item.objects.filter(pk=item.pk).values_list("stock", "reserved").first()
    if fresh is None or fresh[0] is None:
        return
    available = max(fresh[0] - fresh[1], 0)
    if quantity > available:
        raise OutOfStock(
            shortage_message(
                Shortage(item_id=item.pk, name=item.name, wanted=quantity, available=available)
            )
        )


def _tracked(lines: Iterable[OrderLine]) -> list[OrderLine]:
    # Items not tracked (stock blank) hold nothing. In item order: the rows' locks are taken in
    # one order by every checkout.
    return sorted(
        (line for line in lines if line.item.stock is not None), key=lambda line: line.item_id
    )


# A line's units taken from its item's stock, if it has them: (stock, reserved) after, or no row.
_TAKE = (
    "UPDATE {table} SET reserved = reserved + %s"
    " WHERE id = %s AND stock IS NOT NULL AND stock - reserved >= %s RETURNING stock, reserved"
)


def _update_returning(sql: str, params: list[int]) -> tuple[int | None, int] | None:
    return _run(sql.format(table=Item._meta.db_table) + " RETURNING stock, reserved", params)


def _run(sql: str, params: list[int]) -> tuple[int | None, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _returned(cursor.fetchone())


def _returned(row: Sequence[Any] | None) -> tuple[int | None, int] | None:
    return None if row is None else (row[0], row[1])


def _display_changed(item_id: int, before: int | None, after: int | None) -> None:
    """Retire the catalog's shared pages when what they say of an item's stock changes: its
    "Only N left" or "Sold out". Well stocked items change nothing, so a busy sale of one does
    not re-render the catalog on every click. Listeners hear of every change."""
    low = settings.SHOP_LOW_STOCK
    if before is None or after is None or before == after:
        return
    availability_changed.send(sender=Item, item_id=item_id, before=before, after=after)
    if min(before, after) < max(low, 1):
        revision.bump()


def reserve(*, order: Order, lines: Iterable[OrderLine], rows: Together | None = None) -> None:
    """Hold the lines' quantities for `order`, all or nothing: raises OutOfStock naming the
    first item short (the caller's transaction then rolls back what was taken). With `rows`
    (a new order's, not yet written), they are written with the reservations, if the first
    item's UPDATE takes its units, in one statement where the database can
    (kassa.common.inserts); with one item to hold, that statement may end the transaction.

    An item's row is locked from its UPDATE until the transaction commits, and every buyer of a
    popular item waits for that lock, so as little as possible happens while it is held: a
    cart's reservation rows are written before the UPDATEs, a new order's rows in the UPDATE's
    own statement, which commits as well when it can."""
    until = reservation_deadline()
    tracked = _tracked(lines)
    # What one visitor and one network may hold unpaid (kassa.orders.holds), before any is held.
    holds.check_hold_limits(order=order, units=sum(line.quantity for line in tracked))
    reservations = [
        Reservation(order=order, item_id=line.item_id, quantity=line.quantity, reserved_until=until)
        for line in tracked
    ]
    if rows is None:  # an order written already (a cart's checkout): its reservations at once
        Reservation.objects.bulk_create(reservations)
        rows = Together()  # nothing to write but the first item's UPDATE
    else:
        for reservation in reservations:
            rows.add(reservation)
    if not tracked:
        rows.write()
    units = 0
    for n, line in enumerate(tracked):
        take = (
            _TAKE.format(table=Item._meta.db_table),
            [line.quantity, line.item_id, line.quantity],
        )
        if n == 0:  # with the rows, written only if it takes the units
            row = None
            if len(tracked) == 1 and rows.ends_transaction:
                # Its statement may commit (kassa.common.inserts) only while the item stays
                # clear of "low": what that changes (the pages, an event) is written in the
                # same transaction as the unit, so near it the units are taken within it.
                clear = [
                    line.quantity,
                    line.item_id,
                    line.quantity + max(settings.SHOP_LOW_STOCK, 1),
                ]
                row = _returned(rows.write(then=(take[0], clear), last=True))
                if row is None and rows.committed:
                    # That statement ended the transaction: its limits are checked again in
                    # the one the units are now taken in.
                    holds.check_hold_limits(order=order, units=line.quantity)
            if row is None:
                row = _returned(rows.write(then=take))
        else:
            row = _run(*take)
        if row is None:
            fresh = Item.objects.filter(pk=line.item_id).values_list("stock", "reserved").get()
            if fresh[0] is None:  # no longer tracked since the item was read: nothing held
                if not rows.discard(reservations[n]):
                    Reservation.objects.filter(
                        order=order, item_id=line.item_id, state=State.HELD
                    ).delete()
                rows.write()  # what waited for the units
                continue
            raise OutOfStock(
                shortage_message(
                    Shortage(
                        item_id=line.item_id,
                        name=line.item.name,
                        wanted=line.quantity,
                        available=max(fresh[0] - fresh[1], 0),
                    )
                )
            )
        stock, reserved = row
        if stock is not None:
            after = stock - reserved
            _display_changed(line.item_id, after + line.quantity, after)
        units += line.quantity
    if units:
        transaction.on_commit(partial(metrics.reservation_taken, units=units))


def extend(*, order: Order) -> None:
    """A new payment attempt of an order already holding its units: they are held anew."""
    Reservation.objects.filter(order=order, state=State.HELD).update(
        reserved_until=reservation_deadline()
    )


def _held(order: Order) -> list[Reservation]:
    return list(
        Reservation.objects.select_for_update()
        .filter(order=order, state=State.HELD)
        .order_by("item_id")
    )


def release(*, order: Order) -> int:
    """Give back what `order` holds (its payment closed without money). Returns the units."""
    units = 0
    now = timezone.now()
    for reservation in _held(order):
        row = _update_returning(
            "UPDATE {table} SET reserved = reserved - %s WHERE id = %s",
            [reservation.quantity, reservation.item_id],
        )
        if row is not None and row[0] is not None:
            after = row[0] - row[1]
            _display_changed(reservation.item_id, after - reservation.quantity, after)
        reservation.state, reservation.closed_at = State.RELEASED, now
        reservation.save(update_fields=["state", "closed_at"])
        units += reservation.quantity
    if units:
        transaction.on_commit(lambda: metrics.reservation_released(units=units))
    return units


def sell(*, order: Order) -> list[Shortage]:
    """`order` is paid: what it holds is sold, and anything it no longer holds is taken from
    what is available now. Returns what the stock could not cover (the order is flagged)."""
    now = timezone.now()
    held = {reservation.item_id: reservation for reservation in _held(order)}
    shortages = []
    lines = _tracked(OrderLine.objects.filter(order=order).select_related("item"))
    for line in lines:
        reservation = held.pop(line.item_id, None)
        if reservation is not None and reservation.quantity == line.quantity:
            _update_returning(
                "UPDATE {table} SET stock = stock - %s, reserved = reserved - %s WHERE id = %s",
                [line.quantity, line.quantity, line.item_id],
            )
            reservation.state, reservation.closed_at = State.SOLD, now
            reservation.save(update_fields=["state", "closed_at"])
            transaction.on_commit(partial(metrics.reservation_sold, units=line.quantity))
            continue
        if reservation is not None:  # cannot happen while lines are frozen; never lose units
            _release_one(reservation, now)
        shortage = _take_late(order=order, line=line, now=now)
        if shortage is not None:
            shortages.append(shortage)
    for reservation in held.values():  # a line removed while held: cannot happen either
        _release_one(reservation, now)
    if shortages:
        Order.objects.filter(pk=order.pk).update(oversold=True)
        order.oversold = True
        _oversold(order_id=order.pk, shortages=shortages)
    return shortages


def _release_one(reservation: Reservation, now: datetime) -> None:
    _update_returning(
        "UPDATE {table} SET reserved = reserved - %s WHERE id = %s",
        [reservation.quantity, reservation.item_id],
    )
    reservation.state, reservation.closed_at = State.RELEASED, now
    reservation.save(update_fields=["state", "closed_at"])


def _take_late(*, order: Order, line: OrderLine, now: datetime) -> Shortage | None:
    """Units for a payment that holds none: as many as are available, the rest short."""
    item = Item.objects.select_for_update().filter(pk=line.item_id).only("stock", "reserved")
    locked = item.first()
    if locked is None or locked.stock is None:
        return None
    available = max(locked.stock - locked.reserved, 0)
    taken = min(available, line.quantity)
    if taken:
        _update_returning(
            "UPDATE {table} SET stock = stock - %s WHERE id = %s", [taken, line.item_id]
        )
        _display_changed(line.item_id, available, available - taken)
    short = line.quantity - taken
    Reservation.objects.create(
        order=order,
        item_id=line.item_id,
        quantity=taken,
        short=short,
        state=State.SOLD,
        closed_at=now,
    )
    if not short:
        return None
    return Shortage(
        item_id=line.item_id, name=line.item.name, wanted=line.quantity, available=available
    )


def restock(*, order: Order, items: Mapping[int, int] | None = None) -> int:
    """Return what `order` took from stock (goods that came back): `items` maps an item's id
    to the units that came back, None means everything not yet returned. Never more than the
    order took and has not returned yet: a sold row is split, the returned part kept as a row
    of its own. Returns the units."""
    units = 0
    now = timezone.now()
    wanted = None if items is None else {item_id: n for item_id, n in items.items() if n > 0}
    sold = (
        Reservation.objects.select_for_update()
        .filter(order=order, state=State.SOLD)
        .order_by("item_id", "id")
    )
    for reservation in sold:
        left = reservation.quantity if wanted is None else wanted.get(reservation.item_id, 0)
        back = min(left, reservation.quantity)
        if wanted is not None:
            if not back:
                continue
            wanted[reservation.item_id] -= back
        if back:
            row = _update_returning(
                "UPDATE {table} SET stock = stock + %s WHERE id = %s AND stock IS NOT NULL",
                [back, reservation.item_id],
            )
            if row is not None and row[0] is not None:
                after = row[0] - row[1]
                _display_changed(reservation.item_id, after - back, after)
                units += back
        if back == reservation.quantity:
            reservation.state, reservation.closed_at = State.RETURNED, now
            reservation.save(update_fields=["state", "closed_at"])
            continue
        reservation.quantity -= back
        reservation.save(update_fields=["quantity"])
        Reservation.objects.create(
            order=order,
            item_id=reservation.item_id,
            quantity=back,
            state=State.RETURNED,
            closed_at=now,
        )
    return units


def _missing(shortages: list[Shortage]) -> str:
    return ", ".join(f"{s.name} ({s.wanted - s.available} short)" for s in shortages)


def _oversold(*, order_id: int, shortages: list[Shortage]) -> None:
    """Tell staff, in the payment's transaction: the e-mail is queued with it, once per order
    (the mail queue's key), and `notify_oversold` follows the commit."""
    notify_staff(
        key=f"oversold:{order_id}",
        subject=f"Order #{order_id} was paid for more than the stock had",
        body=(
            f"Order #{order_id} was paid after its reservation lapsed, and the stock could not "
            f"cover it: {_missing(shortages)}. Find the goods or refund the order; it is flagged "
            "oversold in the admin."
        ),
    )
    transaction.on_commit(
        lambda: notify_oversold(order_id=order_id, shortages=shortages), robust=True
    )


def notify_oversold(*, order_id: int, shortages: list[Shortage]) -> None:
    """Once the oversold payment is committed: the log at WARNING, and `order_oversold` for
    whatever else listens (nothing in the shop does; the staff e-mail is queued before)."""
    logger.warning(
        "order %s is oversold: paid for more than in stock: %s", order_id, _missing(shortages)
    )
    order_oversold.send(
        sender=Order,
        order_id=order_id,
        shortages=[(s.name, s.wanted - s.available) for s in shortages],
    )
