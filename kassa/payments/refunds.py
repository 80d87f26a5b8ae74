"""Refunding a paid order in Stripe: once, however often staff click."""

from django.utils.translation import gettext as _

from kassa.orders import lifecycle
from kassa.orders.models import Order
from kassa.payments.errors import RefundFailed
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api import refunds, results
from kassa.stripe_api.errors import PaymentError, PaymentProviderUnavailable


def refund_order(
    *, order: Order, requested_by: str, amount: int | None = None, restock: bool = False
) -> results.Refund:
    """Refund `amount` (minor units) of the order, or all that is left of what was paid.
    With `restock`, what the order took from stock goes back on sale once Stripe made the
    refund (a refund made in Stripe's Dashboard returns nothing by itself: the goods may not
    have come back).

    The idempotency key names the order, what was refunded before and the amount: a double
    click, or two staff members at once, get the same refund back from Stripe instead of a
    second one."""
    paid_by = (
        PaymentAttempt.objects.filter(order=order, state=PaymentAttempt.State.PAID)
        .exclude(payment_intent_id="")
        .order_by("closed_at", "number")
        .first()
    )
    refundable = order.status in (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
    if not refundable or paid_by is None or order.amount_paid is None:
        raise RefundFailed(_("The order is not paid, or already refunded."))
    left = order.amount_paid - order.amount_refunded
    if amount is not None and not 0 < amount <= left:
        raise RefundFailed(
            _("The amount to refund must be more than nothing and at most what is left.")
        )
    whole = amount is None or amount == left
    key = (
        f"kassa-refund-{order.pk}"
        if whole and order.amount_refunded == 0
        else f"kassa-refund-{order.pk}-{order.amount_refunded}-{amount or left}"
    )
    try:
        refund = refunds.create_refund(
            currency=order.currency,
            payment_intent_id=paid_by.payment_intent_id,
            idempotency_key=key,
            amount=None if whole else amount,
        )
    except PaymentProviderUnavailable as exc:
        raise RefundFailed(
            _("Stripe cannot be reached right now, so nothing was refunded. Try again later.")
        ) from exc
    except PaymentError as exc:
        raise RefundFailed(
            _("Stripe refused the refund, so nothing was refunded. The log has Stripe's reason.")
        ) from exc
    if refund.failed:
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
    if restock:
        lifecycle.order_return_stock(order_id=order.pk, source=f"refund {refund.id}")
    return refund
