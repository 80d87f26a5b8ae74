"""Carts and unpaid orders nobody will come back to, and their removal (`clean_abandoned_orders`).

An order may go when it is open (a cart, or a checkout its customer left: pending orders are
being paid), was never paid, and nothing about it changed since the cut-off: no edit of the
order, no payment attempt opened or closed. Its payment attempts must all be closed or failed:
an open one may still be paid, a paid one means money moved, and one with an unmatched payment
is money staff have yet to settle. Such an order is kept, whatever its age.

The closed and failed attempts go with their order, deliberately (PaymentAttempt.order protects
them from any other deletion). A closed attempt is one whose Checkout Session or PaymentIntent
Stripe has expired or cancelled (the shop closes an attempt only once Stripe says it can no
longer be paid); a failed one never had a payable object. Stripe keeps its own record of them,
and should a payment for one arrive after all, it is kept as an unmatched payment for staff, as
any payment for an object the shop does not know is.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from kassa.orders import cart_versions
from kassa.orders.models import Order
from kassa.payments.models import PaymentAttempt

logger = logging.getLogger(__name__)
State = PaymentAttempt.State
BATCH = 500


@dataclass
class Removed:
    orders: int = 0
    attempts: int = 0


def abandoned_orders(*, cutoff: datetime) -> QuerySet[Order]:
    """The orders `remove_abandoned_orders` may remove: untouched since `cutoff`, never paid,
    and with no payment attempt that is, was or may become paid."""
    keeps_the_order = PaymentAttempt.objects.filter(order=OuterRef("pk")).filter(
        Q(state__in=[State.OPEN, State.PAID])
        | Q(opened_at__gte=cutoff)
        | Q(closed_at__gte=cutoff)
        | Q(closed_at__isnull=True)
        | Q(unmatched_payments__isnull=False)
    )
    return Order.objects.filter(
        status=Order.Status.OPEN,
        paid_at__isnull=True,
        amount_paid__isnull=True,
        amount_refunded=0,
        created_at__lt=cutoff,
        updated_at__lt=cutoff,
    ).exclude(Exists(keeps_the_order))


def remove_abandoned_orders(*, cutoff: datetime, batch: int = BATCH) -> Removed:
    """Remove the abandoned orders (with their lines, history and closed attempts), a batch per
    transaction. Each batch is locked and chosen again under the lock: a payment beginning
    meanwhile locks its order first, so it either came before (the order is pending now and
    stays) or finds its order gone."""
    removed = Removed()
    while True:
        with transaction.atomic():
            locked = list(
                abandoned_orders(cutoff=cutoff)
                .select_for_update(of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not locked:
                return removed
            # Read again now that the rows are locked: what committed meanwhile counts.
            ids = list(
                abandoned_orders(cutoff=cutoff).filter(pk__in=locked).values_list("pk", flat=True)
            )
            cart_versions.owners_changed(
                Order.objects.filter(pk__in=ids).values_list("visitor_token", "user_id")
            )
            attempts, _ = PaymentAttempt.objects.filter(order_id__in=ids).delete()
            Order.objects.filter(pk__in=ids).delete()
        removed.orders += len(ids)
        removed.attempts += attempts
        logger.info("removed %s abandoned orders and %s closed attempts", len(ids), attempts)
        if len(locked) < batch:
            return removed
