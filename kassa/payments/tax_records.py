"""Stripe Tax's record of card-page sales: a transaction made from the calculation the customer
paid, once, and a reversal for each refund that succeeded.

Rows (TaxTransaction) are written in the transaction that pays or refunds the order, so a report
of the payment or the refund arriving again (a webhook redelivered, the success page beside it)
writes none twice; the worker's task, enqueued in the same transaction, sends each to Stripe
under an idempotency key and a reference of its own, and reconciliation sends again whatever
Stripe has not answered.
"""

import logging

from django.utils import timezone
from django_tasks import task

from kassa.orders.models import Order
from kassa.payments.models import Refund, TaxTransaction
from kassa.stripe_api import tax_transactions
from kassa.stripe_api.errors import PaymentError

logger = logging.getLogger(__name__)
Kind = TaxTransaction.Kind


def sale_paid(*, order: Order, calculation_id: str) -> None:
    """The order was paid at a calculation's amount: its sale is recorded after the commit.
    Call inside the transaction that marks the order paid."""
    TaxTransaction.objects.get_or_create(
        order=order,
        kind=Kind.SALE,
        defaults={"calculation_id": calculation_id, "currency": order.currency},
    )
    _send_after_commit(order.pk)


def refunds_settled(*, order: Order) -> None:
    """The order's refunds changed: each one that succeeded reverses its part of the sale (all
    of it for a refund of the whole payment). Call inside the refund's transaction."""
    if not TaxTransaction.objects.filter(order=order, kind=Kind.SALE).exists():
        return  # not a card-page sale with Stripe Tax (Checkout reverses its own)
    succeeded = Refund.objects.filter(order=order, state=Refund.State.SUCCEEDED).filter(
        tax_reversal__isnull=True
    )
    for refund in succeeded:
        whole = refund.amount == order.amount_paid
        TaxTransaction.objects.get_or_create(
            refund=refund,
            defaults={
                "order": order,
                "kind": Kind.REVERSAL,
                "currency": order.currency,
                "amount": None if whole else refund.amount,
            },
        )
    _send_after_commit(order.pk)


def _send_after_commit(order_id: int) -> None:
    # Enqueued in the caller's transaction (the database backend): it exists exactly when the
    # rows do, and survives the process.
    send_tax_records.enqueue(order_id)


@task(queue_name="default")
def send_tax_records(order_id: int) -> int:
    """The worker's task (`manage.py mail_worker` runs the "default" queue too)."""
    return send_unrecorded(order_id=order_id)


def send_unrecorded(*, order_id: int | None = None, limit: int = 100) -> int:
    """Send Stripe the sales and reversals it does not have yet (of one order, or the oldest
    `limit` of all); a reversal waits for its sale. Returns how many Stripe recorded now."""
    waiting = TaxTransaction.objects.filter(stripe_id="").select_related("order", "refund")
    if order_id is not None:
        waiting = waiting.filter(order_id=order_id)
    recorded = 0
    # Sales first ("sale" > "reversal"): a reversal needs its sale's id.
    for row in waiting.order_by("-kind", "created_at", "pk")[:limit]:
        try:
            recorded += _send(row)
        except PaymentError as exc:
            logger.warning(
                "order %s: tax %s not recorded at Stripe yet: %s", row.order_id, row.kind, exc
            )
    return recorded


def _send(row: TaxTransaction) -> int:
    order = row.order
    metadata = {"order_id": str(order.pk)}
    if row.kind == Kind.SALE:
        made = tax_transactions.create_from_calculation(
            currency=row.currency,
            calculation_id=row.calculation_id,
            name=f"order-{order.pk}",
            metadata=metadata,
        )
    else:
        sale = TaxTransaction.objects.filter(order=order, kind=Kind.SALE).first()
        if sale is None or not sale.stripe_id or row.refund is None:
            return 0  # its sale is not at Stripe yet: the next run sends both
        made = tax_transactions.create_reversal(
            currency=row.currency,
            transaction_id=sale.stripe_id,
            name=f"refund-{row.refund.stripe_id}",
            amount=row.amount,
            metadata={**metadata, "refund": row.refund.stripe_id},
        )
    updated = TaxTransaction.objects.filter(pk=row.pk, stripe_id="").update(
        stripe_id=made.id, recorded_at=timezone.now()
    )
    logger.info("order %s: tax %s recorded at Stripe as %s", order.pk, row.kind, made.id)
    return updated
