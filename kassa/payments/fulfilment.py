"""What Stripe says happened to a payment, applied to our orders: one function per transition.

The webhook, the success page, reconciliation and refunds all come through here, and every
function is idempotent: a repeated, late or out-of-order report changes nothing.

A payment marks an order paid only through the attempt that asked for it: Stripe's object id
must be one the shop made, for the amount and currency it asked. Anything else (a session made
by a Payment Link naming our order in its metadata, an amount we never asked) is money moved all
the same, so it is kept as an UnmatchedPayment for staff, never dropped and never trusted.
"""

import logging

from django.db import IntegrityError, transaction

from kassa.common.notices import notify_staff
from kassa.metrics import instruments as metrics
from kassa.orders import lifecycle
from kassa.orders.models import ShippingRate
from kassa.payments import attempts
from kassa.payments.models import PaymentAttempt, UnmatchedPayment
from kassa.payments.stripe_objects import shipping_rate_for
from kassa.stripe_api import checkout_sessions, results
from kassa.stripe_api.results import Buyer, CheckoutSession, PaymentIntent

logger = logging.getLogger(__name__)
Kind = PaymentAttempt.Kind


def fulfil_checkout_session(session: CheckoutSession, *, source: str) -> bool:
    """Mark the session's order paid if Stripe says the session is paid. True if it changed."""
    if session.status != "complete" or session.payment_status not in (
        "paid",
        "no_payment_required",
    ):
        return False  # e.g. an async payment method still processing
    return _fulfil(
        kind=Kind.CHECKOUT_SESSION,
        stripe_id=session.id,
        amount=session.amount_total,
        currency=session.currency,
        payment_intent_id=session.payment_intent,
        claimed_order=session.order_id or session.client_reference_id,
        source=source,
        buyer=session.buyer,
    )


def fulfil_payment_intent(intent: PaymentIntent, *, source: str) -> bool:
    """Mark the PaymentIntent's order paid if it succeeded. True if it changed."""
    if intent.status != "succeeded":
        return False
    if not results.is_stripe_id(intent.id):
        logger.warning("a payment intent report names no object of Stripe's form; ignored")
        return False
    if not PaymentAttempt.objects.filter(kind=Kind.PAYMENT_INTENT, stripe_id=intent.id).exists():
        # Checkout pays through a PaymentIntent of its own: the session is the attempt, and its
        # payment is recorded through it (Stripe reports the two in either order).
        if PaymentAttempt.objects.filter(
            kind=Kind.CHECKOUT_SESSION, payment_intent_id=intent.id
        ).exists():
            return False
        session = checkout_sessions.session_paid_by(
            currency=intent.currency, payment_intent_id=intent.id
        )
        if (
            session is not None
            and PaymentAttempt.objects.filter(
                kind=Kind.CHECKOUT_SESSION, stripe_id=session.id
            ).exists()
        ):
            return fulfil_checkout_session(session, source=source)
    return _fulfil(
        kind=Kind.PAYMENT_INTENT,
        stripe_id=intent.id,
        amount=intent.amount_received or intent.amount,
        currency=intent.currency,
        payment_intent_id=intent.id,
        claimed_order=intent.order_id,
        source=source,
        buyer=intent.buyer,
    )


def _customer(buyer: Buyer) -> lifecycle.Customer:
    """What Stripe collected, as the order records it: the shipping rate the shop offered."""
    rate: ShippingRate | None = None
    if buyer.shipping_rate:
        rate = shipping_rate_for(stripe_id=buyer.shipping_rate)
    elif buyer.shipping_rate_id is not None:
        rate = ShippingRate.objects.filter(pk=buyer.shipping_rate_id).first()
    return lifecycle.Customer(
        email=buyer.email,
        name=buyer.name,
        phone=buyer.phone,
        shipping_name=buyer.shipping_name,
        line1=buyer.line1,
        line2=buyer.line2,
        postal_code=buyer.postal_code,
        city=buyer.city,
        state=buyer.state,
        country=buyer.country,
        shipping_rate_id=rate.pk if rate else None,
        shipping_method=rate.name if rate else buyer.shipping_method[:200],
        shipping_amount=buyer.shipping_amount,
    )


@transaction.atomic
def _fulfil(
    *,
    kind: str,
    stripe_id: str,
    amount: int,
    currency: str,
    payment_intent_id: str,
    claimed_order: str,
    source: str,
    buyer: Buyer,
) -> bool:
    if not results.is_stripe_id(stripe_id):
        logger.warning("a %s report names no object of Stripe's form; ignored", kind)
        return False
    unmatched = {
        "kind": kind,
        "stripe_id": stripe_id,
        "payment_intent_id": payment_intent_id,
        "amount": amount,
        "currency": currency,
        "claimed_order": claimed_order,
        "source": source,
    }
    # A kept PaymentIntent belongs to several attempts of one order, each asking its amount.
    # An attempt asks for the goods; the shipping the customer chose comes on top (Checkout
    # reports it, and the shop's own page sets it in the PaymentIntent's metadata).
    goods = amount - buyer.shipping_amount
    made = list(PaymentAttempt.objects.filter(kind=kind, stripe_id=stripe_id).order_by("-number"))
    if not made:
        _unmatched(UnmatchedPayment.Reason.UNKNOWN_OBJECT, **unmatched)
        return False
    attempt = next(
        (
            attempt
            for attempt in made
            if attempt.currency == currency and attempt.amount in (goods, None)
        ),
        None,
    )
    if attempt is None:
        _unmatched(UnmatchedPayment.Reason.AMOUNT_DIFFERS, attempt=made[0], **unmatched)
        return False
    paid = lifecycle.order_mark_paid(
        order_id=attempt.order_id, amount=amount, source=source, customer=_customer(buyer)
    )
    if paid:
        metrics.checkout_paid(currency=attempt.currency, kind=kind)
    # Read under the order's lock, which order_mark_paid holds until this transaction ends: the
    # same payment reported at the same moment elsewhere (the webhook beside the success page)
    # has marked its attempt by now. Read before the lock, it would look like a second payment.
    attempt.refresh_from_db(fields=["state"])
    already = attempt.state == PaymentAttempt.State.PAID
    attempts.attempt_mark_paid(attempt=attempt, payment_intent_id=payment_intent_id)
    # A second, different payment for one order: staff must refund one of them.
    if (
        not paid
        and not already
        and _unmatched(UnmatchedPayment.Reason.ALREADY_PAID, attempt=attempt, **unmatched)
    ):
        notify_staff(
            key=f"paid-twice:{kind}:{stripe_id}",
            subject=f"Order #{attempt.order_id} was paid twice",
            body=(
                f"Order #{attempt.order_id} was already paid when {stripe_id} paid it "
                f"again ({amount} {currency.upper()} in minor units). Refund one of the "
                "payments; it is listed under Unmatched payments in the admin."
            ),
        )
    return paid


def _unmatched(reason: str, **fields: object) -> bool:
    """Keep a payment that pays no order, once however often Stripe reports it. True if this
    report is the one that recorded it."""
    try:
        with transaction.atomic():
            record, created = UnmatchedPayment.objects.get_or_create(
                kind=fields.pop("kind"),
                stripe_id=fields.pop("stripe_id"),
                defaults={"reason": reason, **fields},
            )
    except IntegrityError:  # the same report, arriving twice at once
        return False
    if created:
        logger.error(
            "unmatched payment %s (%s): %s %s, claims order %r",
            record.stripe_id,
            reason,
            record.amount,
            record.currency,
            record.claimed_order,
        )
    return created


def checkout_session_closed(session: CheckoutSession, *, source: str) -> bool:
    """An expired or failed session: its attempt closes, and the order reopens if it was the
    last one open. True if the attempt was open."""
    if not results.is_stripe_id(session.id):
        return False
    attempt = (
        PaymentAttempt.objects.filter(kind=Kind.CHECKOUT_SESSION, stripe_id=session.id)
        .order_by("-number")
        .first()
    )
    if attempt is None:
        return False
    note = "session expired" if session.status == "expired" else "payment failed"
    return attempts.attempt_close(attempt=attempt, source=source, note=note)


def record_refund(*, payment_intent_id: str, amount_refunded: int, source: str) -> bool:
    """Stripe's running total refunded for a payment, applied to the order it paid."""
    if not results.is_stripe_id(payment_intent_id):
        return False  # a charge with no payment intent: nothing of ours to refund
    attempt = PaymentAttempt.objects.filter(
        payment_intent_id=payment_intent_id, state=PaymentAttempt.State.PAID
    ).first()
    if attempt is None:
        raise LookupError(f"No order is paid by {payment_intent_id} (yet).")
    return lifecycle.order_mark_refunded(
        order_id=attempt.order_id, amount_refunded=amount_refunded, source=source
    )
