"""A notice for the shop's staff from any layer (an order paid twice, stock oversold, ...).

The notifications app queues it as an e-mail to SHOP_STAFF_EMAILS, once per `key`, in the
caller's transaction; lower layers call this rather than importing notifications.
"""

from django.dispatch import Signal

staff_notice = Signal()


def notify_staff(*, key: str, subject: str, body: str) -> None:
    """Queue `subject`/`body` for the staff, once however often it is called with `key` (e.g.
    "paid-twice:pi_123"). Call it inside the transaction of the change it is about."""
    staff_notice.send(sender=None, key=key[:200], subject=subject[:200], body=body)
