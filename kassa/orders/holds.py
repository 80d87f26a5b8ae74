"""How many units one visitor and one client address may hold at once in payments not yet made.

A Buy click holds its units for CHECKOUT_RESERVATION_MINUTES; without a cap a script clicking
Buy from a few addresses could keep a sale's whole stock off the shelf without paying. The caps
(SHOP_HOLD_LIMIT_VISITOR, SHOP_HOLD_LIMIT_ADDRESS) count the units held by the visitor's (or
their account's) orders and by orders placed from the same network, and refuse a payment that
would take more, before anything is held. On PostgreSQL the count and the taking are one
network's and one visitor's at a time (transaction-level advisory locks, taken network first,
then visitor, before any item's row): a script's concurrent clicks are counted one after the
other, while buyers elsewhere never wait on them. SQLite writes one transaction at a time anyway.

Orders keep where they were placed from as a keyed digest of the client's network (an IPv4
address, an IPv6 /64, which one client usually owns whole), never the address itself.
"""

import ipaddress
import zlib

from django.conf import settings
from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kassa.common.errors import Conflict
from kassa.orders.models import Order, Reservation
from kassa.orders.visitors import Visitor


class HoldLimitReached(Conflict):
    code = "hold_limit"


def network_key(address: str) -> str:
    """The digest orders from `address` are kept under; "" for no address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    network = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    return salted_hmac("kassa.orders.holds", network).hexdigest()[:16]


def placed_from(visitor: Visitor) -> str:
    return network_key(visitor.address)


# The advisory locks' class (their first key), so they never meet another lock of the shop's.
_LOCK_CLASS = 0x4B48  # "KH"


def _lock_key(text: str) -> int:
    """A signed 32-bit key for `text` (two texts sharing one only wait on each other)."""
    return zlib.crc32(text.encode()) - 2**31


def _one_at_a_time(order: Order) -> None:
    """Hold the order's network and visitor until the transaction ends (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return
    visitor = order.user_id or order.visitor_token
    keys = [
        _lock_key(name)
        for name in (
            f"network:{order.placed_from}" if order.placed_from else "",
            f"visitor:{visitor}" if visitor else "",
        )
        if name
    ]
    if not keys:
        return
    locks = ", ".join(["pg_advisory_xact_lock(%s, %s)"] * len(keys))
    with connection.cursor() as cursor:
        # One statement: the select list is evaluated left to right, the network first.
        cursor.execute(f"SELECT {locks}", [arg for key in keys for arg in (_LOCK_CLASS, key)])


def check_hold_limits(*, order: Order, units: int) -> None:
    """Refuse (HoldLimitReached) to hold `units` more for `order` if its visitor, or the network
    it was placed from, would then hold more than they may in payments not yet made (one
    query, for both)."""
    visitor_limit = int(settings.SHOP_HOLD_LIMIT_VISITOR)
    address_limit = int(settings.SHOP_HOLD_LIMIT_ADDRESS)
    if units <= 0 or not settings.SHOP_THROTTLE or (visitor_limit <= 0 and address_limit <= 0):
        return  # SHOP_THROTTLE=false: every abuse limit off (load tests, `make bench`)
    if not (order.visitor_token or order.user_id is not None or order.placed_from):
        return  # an order of nobody's (staff's, a test's): nobody to count against
    _one_at_a_time(order)
    mine = Q(order__visitor_token=order.visitor_token) if order.visitor_token else Q(pk__in=[])
    if order.user_id is not None:
        mine |= Q(order__user_id=order.user_id)
    near = Q(order__placed_from=order.placed_from) if order.placed_from else Q(pk__in=[])
    held = Reservation.objects.filter(
        mine | near, state=Reservation.State.HELD, reserved_until__gt=timezone.now()
    )
    if order.pk is not None:  # else a new order's, not written yet: it holds nothing
        held = held.exclude(order=order)
    counted = held.aggregate(mine=Sum("quantity", filter=mine), near=Sum("quantity", filter=near))
    by_visitor, by_address = int(counted["mine"] or 0), int(counted["near"] or 0)
    if visitor_limit > 0 and by_visitor + units > visitor_limit:
        raise HoldLimitReached(
            ngettext(
                "You can hold at most %(limit)s unit in payments not yet made, and %(held)s "
                "are waiting for payment already. Pay for or cancel those first.",
                "You can hold at most %(limit)s units in payments not yet made, and "
                "%(held)s are waiting for payment already. Pay for or cancel those first.",
                visitor_limit,
            )
            % {"limit": visitor_limit, "held": by_visitor}
        )
    if address_limit > 0 and by_address + units > address_limit:
        raise HoldLimitReached(
            _(
                "Too many units are waiting for payment from your network right now. "
                "Please try again in a few minutes."
            )
        )
