"""An invoice when an order is paid, a credit note when it is refunded: issued inside the
transaction that records the payment or refund (the lifecycle's signals), so numbers are taken
exactly when the money is recorded.

A fault while issuing never undoes the payment it follows: it is rolled back to a savepoint
(the number it took goes back with it) and logged; the invoice is issued when it is next asked
for (its download, its e-mail)."""

import logging
from typing import Any

from django.db import transaction

from kassa.invoices.services import credit_note_issue, invoice_issue
from kassa.orders import signals

logger = logging.getLogger(__name__)


def order_paid(sender: Any, *, order_id: int, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            invoice_issue(order_id=order_id)
    except Exception:
        logger.exception("order %s: its invoice could not be issued now", order_id)


def order_refunded(sender: Any, *, order_id: int, amount_refunded: int, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            credit_note_issue(order_id=order_id, refunded_total=amount_refunded)
    except Exception:
        logger.exception("order %s: its credit note could not be issued now", order_id)


def connect() -> None:
    signals.order_paid.connect(order_paid, dispatch_uid="invoices.order_paid")
    signals.order_refunded.connect(order_refunded, dispatch_uid="invoices.order_refunded")
