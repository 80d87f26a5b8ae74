"""Catching up on missed webhooks: ask Stripe about orders left pending."""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from kassa.orders import lifecycle
from kassa.orders.models import Order
from kassa.payments import gateway
from kassa.payments.attempts import close_payment_intent
from kassa.payments.errors import PaymentError
from kassa.payments.fulfilment import fulfil_checkout_session, fulfil_payment_intent

logger = logging.getLogger(__name__)


@dataclass
class Report:
    checked: int = 0
    paid: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def reconcile_pending(
    *,
    older_than: timedelta = timedelta(minutes=15),
    abandon_after: timedelta = timedelta(hours=24),
) -> Report:
    """Fulfil pending orders Stripe says are paid; reopen those whose attempt is closed.

    Safe at any time and any number of times: it only applies what Stripe reports, through
    the same idempotent functions the webhook uses. Orders younger than `older_than` are left
    to their webhooks. A PaymentIntent nobody has paid for `abandon_after` is cancelled and its
    order reopened, as Stripe itself expires an unpaid Checkout Session after a day.
    """
    report = Report()
    cutoff = timezone.now() - older_than
    for order in Order.objects.filter(status=Order.Status.PENDING, updated_at__lt=cutoff):
        report.checked += 1
        source = "reconciliation"
        try:
            if order.stripe_checkout_session_id:
                session = gateway.retrieve_checkout_session(
                    currency=order.currency, session_id=order.stripe_checkout_session_id
                )
                if fulfil_checkout_session(session, source=source):
                    report.paid.append(order.pk)
                elif session.status == "expired" and lifecycle.order_reopen(
                    order_id=order.pk, source=source, session_id=session.id
                ):
                    report.reopened.append(order.pk)
            elif order.stripe_payment_intent_id:
                intent = gateway.retrieve_payment_intent(
                    currency=order.currency, payment_intent_id=order.stripe_payment_intent_id
                )
                if fulfil_payment_intent(intent, source=source):
                    report.paid.append(order.pk)
                elif intent.status == "canceled" and lifecycle.order_reopen(
                    order_id=order.pk, source=source, attempt=order.checkout_attempt
                ):
                    report.reopened.append(order.pk)
                elif order.updated_at < timezone.now() - abandon_after and intent.status.startswith(
                    "requires_"
                ):
                    close_payment_intent(order=order, payment_intent_id=intent.id)
                    if lifecycle.order_reopen(
                        order_id=order.pk,
                        source=f"{source}: abandoned",
                        attempt=order.checkout_attempt,
                    ):
                        report.reopened.append(order.pk)
            elif lifecycle.order_reopen(
                order_id=order.pk, source=source, attempt=order.checkout_attempt
            ):
                # Pending with no attempt recorded: its checkout never got going.
                report.reopened.append(order.pk)
        except PaymentError as exc:
            logger.warning("reconciliation of order %s failed: %s", order.pk, exc.message)
            report.failed.append(order.pk)
    return report
