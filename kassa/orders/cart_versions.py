"""A version per cart owner (a browser's visitor token, a user account), in the shared cache, new
each time anything that owner's header shows of their cart changes.

Pages show a visitor's cart from a signed cookie the shop wrote when it last read the cart
(kassa.storefront.personal); the cookie carries the versions it was read at, and a page trusts it
only while the shared cache still holds those versions: one cache read per page, no database.
So every change of a cart — a line added, removed or its quantity changed, carts merged at sign-in
or when a payment is cancelled, a checkout started, paid or expired, a cart removed as abandoned,
an account erased — ends in `cart_changed`, which gives each owner a new version once the change
commits. Another tab or device of the same owner then reads the cart afresh on its next page.

A version is a random token, not a counter: one lost from the cache (evicted, Redis emptied) is
made again as a new token, which no cookie holds, so a lost version is a fresh read, never a
stale count.
"""

import hashlib
import secrets
from collections.abc import Iterable

from django.core.cache import caches
from django.db import transaction

from kassa.orders.models import Order

# The shared cache, as every process and replica sees it (REDIS_URL, else the database's table).
CACHE = "default"
# Versions outlive any cookie that holds one (kassa.storefront.personal), by far.
TIMEOUT = 30 * 24 * 3600


def owner_keys(*, token: str, user_id: int | None) -> list[str]:
    """The cache keys of an owner's versions. The token is hashed: the keys name no secret."""
    keys = []
    if token:
        keys.append(f"cart-version:v:{hashlib.sha256(token.encode()).hexdigest()[:32]}")
    if user_id is not None:
        keys.append(f"cart-version:u:{user_id}")
    return keys


def owners_changed(owners: Iterable[tuple[str, int | None]]) -> None:
    """Each (visitor token, user id)'s cart changed: new versions for them once the change
    commits (at once outside a transaction). A rolled-back change changes nothing."""
    keys = {key for token, user_id in owners for key in owner_keys(token=token, user_id=user_id)}
    if keys:
        transaction.on_commit(lambda: _renew(keys))


def cart_changed(*orders: Order) -> None:
    """What the header shows of these orders' owners changed (a line, a quantity, a status)."""
    owners_changed((order.visitor_token, order.user_id) for order in orders)


def _renew(keys: set[str]) -> None:
    caches[CACHE].set_many({key: secrets.token_hex(8) for key in keys}, timeout=TIMEOUT)


def current(keys: list[str]) -> dict[str, str]:
    """The versions of `keys` now, made for those the cache does not hold (one read, and one
    `add` per missing key). Read before the cart is: a change committing in between leaves an
    older version beside a newer cart, which only costs one more read later."""
    cache = caches[CACHE]
    found: dict[str, str] = cache.get_many(keys) if keys else {}
    for key in keys:
        if key not in found:
            made = secrets.token_hex(8)
            found[key] = made if cache.add(key, made, timeout=TIMEOUT) else cache.get(key, "")
    return found


def held(versions: dict[str, str]) -> bool:
    """Whether the shared cache still holds every one of `versions` (one read)."""
    if not versions:
        return True
    now = caches[CACHE].get_many(list(versions))
    return all(now.get(key) == value and value for key, value in versions.items())
