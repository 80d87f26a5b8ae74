"""Refunding a paid order in Stripe: once, however often staff click."""

from django.utils.translation import gettext as _

from kassa.orders import lifecycle
from kassa.orders.models import Order
from kassa.payments import gateway
from kassa.payments.errors import PaymentError, PaymentProviderUnavailable, RefundFailed
from kassa.payments.models import PaymentAttempt


def refund_order(*, order: Order, requested_by: str) -> gateway.Refund:
    """Refund the whole order. The idempotency key is the order's: a double click, or two staff
    members at once, get the same refund back from Stripe instead of a second one."""
    paid_by = (
        PaymentAttempt.objects.filter(order=order, state=PaymentAttempt.State.PAID)
        .exclude(payment_intent_id="")
        .order_by("closed_at", "number")
        .first()
    )
    if order.status != Order.Status.PAID or paid_by is None:
        raise RefundFailed(_("The order is not paid, or already refunded."))
    try:
        refund = gateway.create_refund(
            currency=order.currency,
            payment_intent_id=paid_by.payment_intent_id,
            idempotency_key=f"kassa-refund-{order.pk}",
        )
    except PaymentProviderUnavailable as exc:
        raise RefundFailed(
            _("Stripe cannot be reached right now, so nothing was refunded. Try again later.")
        ) from exc
    except PaymentError as exc:
        raise RefundFailed(
            _("Stripe refused the refund, so nothing was refunded. The log has Stripe's reason.")
        ) from exc
    if refund.status in ("failed", "canceled"):
        # Nothing went back to the customer: the order stays paid, and staff are told.
        raise RefundFailed(
            _("Stripe did not make the refund (%(status)s); see %(refund)s in the Dashboard.")
            % {"status": refund.status, "refund": refund.id}
        )
    lifecycle.order_mark_refunded(
        order_id=order.pk,
        amount_refunded=order.amount_refunded + refund.amount,
        source=f"refund {refund.id} by {requested_by}",
    )
    return refund
