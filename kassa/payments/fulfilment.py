"""What Stripe says happened to a payment, applied to our orders: one function per transition.

The webhook, the success page and reconciliation all come through here (refunds have their
own module, refunds.py), and every function is idempotent: a repeated, late or out-of-order
report changes nothing.

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
from kassa.orders.shipping import ShippingCharge
from kassa.payments import attempts, tax_records
from kassa.payments.methods import method_for
from kassa.payments.methods.base import Remote, RemoteState
from kassa.payments.models import PaymentAttempt, UnmatchedPayment
from kassa.payments.stripe_objects import shipping_rate_for
from kassa.stripe_api.results import Buyer, is_stripe_id

logger = logging.getLogger(__name__)


def fulfil(remote: Remote, *, source: str) -> bool:
    """Mark the order paid if `remote` says money moved through it. True if the order changed."""
    if remote.state is not RemoteState.PAID:
        return False  # e.g. an asynchronous payment method still processing
    if not is_stripe_id(remote.stripe_id):
        logger.warning("a %s report names no object of Stripe's form; ignored", remote.kind)
        return False
    recorded = method_for(remote.kind).recorded_as(remote)
    if recorded is None:
        return False
    return _fulfil(recorded, source=source)


def closed(remote: Remote, *, source: str) -> bool:
    """Stripe closed the object without money (expired, failed, cancelled): its attempt
    closes, and the order reopens if it was the last one open. True if the attempt was open."""
    if remote.state is not RemoteState.CLOSED or not is_stripe_id(remote.stripe_id):
        return False
    attempt = (
        PaymentAttempt.objects.filter(kind=remote.kind, stripe_id=remote.stripe_id)
        .order_by("-number")
        .first()
    )
    if attempt is None:
        return False
    changed = attempts.attempt_close(attempt=attempt, source=source, note=remote.note)
    if changed and remote.recovery_email:
        lifecycle.order_offer_recovery(
            order_id=attempt.order_id, email=remote.recovery_email, source=source
        )
    return changed


def applied(remote: Remote, *, source: str) -> bool:
    """What Stripe reports of an object (a webhook event), applied: paid or closed."""
    return fulfil(remote, source=source) or closed(remote, source=source)


def _shipping(buyer: Buyer) -> ShippingCharge:
    """The shipping Stripe reports was chosen, as the order records it: the rate the shop
    offered."""
    rate: ShippingRate | None = None
    if buyer.shipping_rate:
        rate = shipping_rate_for(stripe_id=buyer.shipping_rate)
    elif buyer.shipping_rate_id is not None:
        rate = ShippingRate.objects.filter(pk=buyer.shipping_rate_id).first()
    return ShippingCharge(
        rate_id=rate.pk if rate else None,
        method=rate.name if rate else buyer.shipping_method[:200],
        amount=buyer.shipping_amount,
    )


@transaction.atomic
def _fulfil(remote: Remote, *, source: str) -> bool:
    kind, stripe_id, amount, currency = (
        remote.kind,
        remote.stripe_id,
        remote.amount,
        remote.currency,
    )
    buyer, payment_intent_id = remote.buyer, remote.payment_intent_id
    unmatched = {
        "kind": kind,
        "stripe_id": stripe_id,
        "payment_intent_id": payment_intent_id,
        "amount": amount,
        "currency": currency,
        "claimed_order": remote.claimed_order,
        "source": source,
    }
    # A kept PaymentIntent belongs to several attempts of one order, each asking its amount.
    # An attempt asks for the goods; the shipping the customer chose comes on top (Checkout
    # reports it, and the shop's own page sets it in the PaymentIntent's metadata).
    # With Stripe Tax, the tax Stripe added on top comes beside them (`tax_added`, from the
    # amounts Stripe reports for the session, never from the customer).
    goods = amount - buyer.shipping_amount - remote.tax_added
    made = list(PaymentAttempt.objects.filter(kind=kind, stripe_id=stripe_id).order_by("-number"))
    if not made:
        _unmatched(UnmatchedPayment.Reason.UNKNOWN_OBJECT, **unmatched)
        return False
    if remote.tax_missing:
        # Paid before the tax for the customer's address was added: not what the shop asked.
        _unmatched(UnmatchedPayment.Reason.AMOUNT_DIFFERS, attempt=made[0], **unmatched)
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
        order_id=attempt.order_id,
        amount=amount,
        source=source,
        contact=buyer.contact,
        address=buyer.address,
        shipping=_shipping(buyer),
        details=remote.details,
    )
    if paid:
        metrics.checkout_paid(currency=attempt.currency, kind=kind)
        if remote.tax_calculation:
            tax_records.sale_paid(order=attempt.order, calculation_id=remote.tax_calculation)
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
