"""The customer's own link to an order: signed by the shop, so it opens that order and nothing
else from any device, without the session of the browser that bought it."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from kassa.orders.models import Order

_SALT = "kassa.orders.link"
_RECOVERY_SALT = "kassa.orders.recovery"


def order_token(order: Order) -> str:
    return signing.Signer(salt=_SALT).sign(str(order.pk))


def order_from_token(token: str) -> int | None:
    """The order id a token was signed for, or None for a tampered or foreign one."""
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None


def shop_url(path: str) -> str:
    """An absolute address of the shop, for mail: on SHOP_PUBLIC_URL, or where `make run`
    serves."""
    base = settings.SHOP_PUBLIC_URL or f"http://127.0.0.1:{settings.SHOP_LOCAL_PORT}"
    return base.rstrip("/") + path


def order_link(order: Order) -> str:
    return shop_url(reverse("orders:signed", args=[order_token(order)]))


def recovery_token(order: Order) -> str:
    """What brings a customer back to their unpaid cart from the reminder (another salt than
    the paid order's link: neither opens what the other does)."""
    return signing.Signer(salt=_RECOVERY_SALT).sign(str(order.pk))


def order_from_recovery_token(token: str) -> int | None:
    try:
        value = signing.Signer(salt=_RECOVERY_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() else None
