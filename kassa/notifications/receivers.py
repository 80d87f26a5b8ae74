"""The events that cause mail, each queued in the transaction of its change (see services)."""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from kassa.common.notices import staff_notice
from kassa.notifications.models import Mail, RecoveryOptOut
from kassa.notifications.services import mail_queue, mail_queue_later
from kassa.orders import signals
from kassa.orders.models import Order

logger = logging.getLogger(__name__)
Kind = Mail.Kind


def _language(order_id: int) -> str:
    return Order.objects.filter(pk=order_id).values_list("language", flat=True).first() or ""


def _to_staff(*, key: str, kind: str, order_id: int | None, **context: object) -> None:
    if not settings.SHOP_STAFF_EMAILS:
        logger.info("no SHOP_STAFF_EMAILS: %s is not mailed", key)
        return
    mail_queue(key=key, kind=kind, order_id=order_id, language=settings.LANGUAGE_CODE, **context)


def order_paid(sender: Any, *, order_id: int, **kwargs: Any) -> None:
    language = _language(order_id)
    mail_queue(
        key=f"confirmation:{order_id}", kind=Kind.CONFIRMATION, order_id=order_id, language=language
    )
    _to_staff(key=f"staff-new-order:{order_id}", kind=Kind.STAFF_NEW_ORDER, order_id=order_id)


def order_shipped(sender: Any, *, order_id: int, **kwargs: Any) -> None:
    mail_queue(
        key=f"shipped:{order_id}",
        kind=Kind.SHIPPED,
        order_id=order_id,
        language=_language(order_id),
    )


def order_refunded(
    sender: Any, *, order_id: int, amount_refunded: int, customer_told: bool = False, **kwargs: Any
) -> None:
    if customer_told:
        return  # the change's own mail says what was refunded (a return's approval)
    # One notice per refund: Stripe's running total names it.
    mail_queue(
        key=f"refund:{order_id}:{amount_refunded}",
        kind=Kind.REFUND,
        order_id=order_id,
        language=_language(order_id),
        amount_refunded=amount_refunded,
    )


def order_abandoned(sender: Any, *, order_id: int, **kwargs: Any) -> None:
    # One reminder per order, after SHOP_RECOVERY_DELAY; whether it is still wanted (not paid
    # meanwhile, not opted out) is asked again when it is due (kassa.notifications.messages).
    email = Order.objects.filter(pk=order_id).values_list("recovery_email", flat=True).first()
    if not email or RecoveryOptOut.objects.filter(email=email.lower()).exists():
        return
    mail_queue_later(
        due=timezone.now() + timedelta(seconds=settings.SHOP_RECOVERY_DELAY),
        key=f"recovery:{order_id}",
        kind=Kind.RECOVERY,
        order_id=order_id,
        language=_language(order_id),
    )


def notice(sender: Any, *, key: str, subject: str, body: str, **kwargs: Any) -> None:
    _to_staff(
        key=f"notice:{key}", kind=Kind.STAFF_NOTICE, order_id=None, subject=subject, body=body
    )


def connect() -> None:
    signals.order_paid.connect(order_paid, dispatch_uid="notifications.order_paid")
    signals.order_shipped.connect(order_shipped, dispatch_uid="notifications.order_shipped")
    signals.order_refunded.connect(order_refunded, dispatch_uid="notifications.order_refunded")
    signals.order_abandoned.connect(order_abandoned, dispatch_uid="notifications.order_abandoned")
    staff_notice.connect(notice, dispatch_uid="notifications.staff_notice")
