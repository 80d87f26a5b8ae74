"""Refunds: the one way money goes back to a customer, and how the shop follows it at Stripe.

`refund_order` is the service every refund of the shop goes through (the admin's refund form,
and returns): it names the lines and units that came back, restocks exactly those, and refunds
their amount or one the caller gives. `refund_reported` applies what Stripe says of a refund
later (webhook events), whoever made it: a refund can wait (pending, requires_action) and fail
days later, even after it succeeded, and then the order is no longer refunded by it.

The order's `amount_refunded` is what succeeded refunds add up to; pending ones count against
what is left to refund (as Stripe counts them) but not as refunded.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from kassa.common.errors import Conflict
from kassa.common.money import format_amount, from_minor
from kassa.common.notices import notify_staff
from kassa.giftcards import ledger as gift_card_ledger
from kassa.orders import lifecycle
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import returned_amount
from kassa.payments import tax_records
from kassa.payments.errors import RefundFailed
from kassa.payments.models import PaymentAttempt, Refund, RefundLine
from kassa.stripe_api import refunds as stripe_refunds
from kassa.stripe_api import results
from kassa.stripe_api.errors import PaymentError, PaymentProviderUnavailable

logger = logging.getLogger(__name__)

# The stand-in for refunds made before they were recorded one by one (a migration wrote one per
# order): the refunds Stripe reports for the order from before then take its place.
UNRECORDED = "unrecorded-"

# Stripe's refund states, as the records keep them (the two enumerations name the same states).
_STATE = {state: Refund.State(str(state)) for state in results.RefundState}


class RefundOutdated(Conflict, PaymentError):
    """The order was refunded since the caller looked at it: the caller looks again."""

    code = "refund_outdated"


@dataclass(frozen=True)
class ReturnedLine:
    """Units of one of the order's lines that came back."""

    line_id: int
    quantity: int


def _paid_by(order: Order) -> PaymentAttempt | None:
    return (
        PaymentAttempt.objects.filter(order=order, state=PaymentAttempt.State.PAID)
        .exclude(payment_intent_id="")
        .order_by("closed_at", "number")
        .first()
    )


def refunds_counted(order: Order) -> int:
    """What the order's refunds take from what was paid: succeeded and still pending ones."""
    counting = Refund.objects.filter(order=order).exclude(
        state__in=[Refund.State.FAILED, Refund.State.CANCELED]
    )
    return int(counting.aggregate(total=Sum("amount"))["total"] or 0)


def refundable(order: Order) -> int:
    """What is left to refund of what the order was paid (minor units)."""
    if not order.is_paid or order.amount_paid is None:
        return 0
    return max(order.amount_paid - refunds_counted(order), 0)


def returnable(order: Order) -> dict[int, int]:
    """Units of each of the order's lines (by id) that have not come back yet."""
    back: dict[int, int] = defaultdict(int)
    for line_id, quantity in RefundLine.objects.filter(refund__order=order).values_list(
        "line_id", "quantity"
    ):
        back[line_id] += quantity
    return {line.pk: line.quantity - back[line.pk] for line in order.lines.all()}


def _checked_lines(order: Order, returned: Sequence[ReturnedLine]) -> dict[int, int]:
    """The returned units by line id, refused if they name another order's line or more units
    than have not come back yet."""
    wanted: dict[int, int] = defaultdict(int)
    for entry in returned:
        if entry.quantity < 0:
            raise RefundFailed(_("A quantity returned cannot be negative."))
        if entry.quantity:
            wanted[entry.line_id] += entry.quantity
    left = returnable(order)
    for line_id, units in wanted.items():
        if line_id not in left:
            raise RefundFailed(_("A line returned is not one of the order's."))
        if units > left[line_id]:
            raise RefundFailed(
                _("At most %(count)s of a line can still come back.") % {"count": left[line_id]}
            )
    return dict(wanted)


def _key(order: Order, *, before: int, amount: int, lines: dict[int, int]) -> str:
    """The refund's idempotency key: the order, what its refunds took before, the amount and
    the units returned. The same request again (a double click, a lost answer, two staff at
    once) names the same refund; a new one, made after it, counts it in `before`; one made
    again after Stripe refused it at once counts the refunds that failed."""
    returned = ",".join(f"{line}x{units}" for line, units in sorted(lines.items()))
    failed = Refund.objects.filter(
        order=order, state__in=[Refund.State.FAILED, Refund.State.CANCELED]
    ).count()
    return (
        f"kassa-refund-{order.pk}-{before}-{amount}"
        + (f"-{returned}" if returned else "")
        + (f"-again{failed}" if failed else "")
    )


def _order_locked() -> AbstractContextManager[object]:
    """A transaction holding the order's row from the check to the record where the database
    locks rows (PostgreSQL); none on SQLite (see refund_order)."""
    return transaction.atomic() if connection.features.has_select_for_update else nullcontext()


def refund_order(
    *,
    order_id: int,
    requested_by: str,
    returned: Sequence[ReturnedLine] = (),
    amount: int | None = None,
    restock: bool = True,
    refunded_before: int | None = None,
    note: str = "",
    at_most: int | None = None,
    customer_told: bool = False,
) -> Refund:
    """Refund a paid order in Stripe and record it, for the goods that came back.

    - `returned`: the lines and units that came back (none: money only). They are recorded on
      the refund and, with `restock` (the default), exactly those units go back on sale.
    - `amount` (minor units of the order's currency): what to refund. Left out, it is what the
      returned units were paid (their share of discount and tax, no shipping), or, when nothing
      came back, all that is left to refund.
    - `refunded_before`: what the order's refunds came to when the caller looked (see
      `refunds_counted`). A refund made since makes this one refused (RefundOutdated) rather
      than a second one by mistake. Left out, the present figure is taken.
    - `requested_by` names who asked (kept on the refund and in the order's history); `note`
      is free text for staff.
    - `at_most` (minor units): refuse a bigger refund (a staff member's limit, see
      SHOP_STAFF_REFUND_LIMIT), before Stripe is asked.
    - `customer_told`: the caller tells the customer of this refund in a mail of its own (a
      return's approval says what was refunded), so the refund notice is not sent as well.

    Returns the refund as recorded. Its state may be pending (Stripe will say later, see
    `refund_reported`) or even failed at once: then nothing came back to stock and the order
    is unchanged. Raises RefundFailed (nothing written, nothing refunded) when the order is not
    refundable, the lines or amount are wrong, or Stripe refused or could not be reached.

    The order's row is locked from the check to the commit, so refunds of one order happen one
    after the other and each sees the ones before it.
    On SQLite (`make run`), whose one write lock is the whole database's, nothing is held while
    Stripe answers, so a stand-in for Stripe writing to the same database (demo payments) is
    not kept waiting; what is recorded after the answer is written in one transaction."""
    with _order_locked():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            raise RefundFailed(_("There is no such order."))
        paid_by = _paid_by(order)
        left = refundable(order)
        # Paid by gift cards alone: what is refunded goes back to them, without Stripe.
        by_cards_only = paid_by is None and left > 0 and bool(gift_card_ledger.spent_by(order))
        if not by_cards_only and (paid_by is None or left <= 0):
            raise RefundFailed(_("The order is not paid, or already refunded."))
        lines = _checked_lines(order, returned)
        amount = _amount_checked(order, lines, amount=amount, left=left, at_most=at_most)
        if by_cards_only:
            return _refund_to_gift_cards(
                order,
                requested_by=requested_by,
                lines=lines,
                amount=amount,
                restock=restock,
                note=note,
                customer_told=customer_told,
            )
        if paid_by is None:  # not paid through Stripe, and not by gift cards alone
            raise RefundFailed(_("The order is not paid, or already refunded."))
        before = refunds_counted(order)
        key = _key(
            order,
            before=before if refunded_before is None else refunded_before,
            amount=amount,
            lines=lines,
        )
        again = Refund.objects.filter(idempotency_key=key).first()
        if again is not None:
            return again  # the same request, made already
        if refunded_before is not None and refunded_before != before:
            raise RefundOutdated(
                _("The order was refunded since this page was opened: look at it again.")
            )
        try:
            made = stripe_refunds.create_refund(
                currency=order.currency,
                payment_intent_id=paid_by.payment_intent_id,
                idempotency_key=key,
                amount=None if amount == left and not lines else amount,
                metadata={"order_id": str(order.pk)},
            )
        except PaymentProviderUnavailable as exc:
            raise RefundFailed(
                _("Stripe cannot be reached right now, so nothing was refunded. Try again later.")
            ) from exc
        except PaymentError as exc:
            raise RefundFailed(
                _(
                    "Stripe refused the refund, so nothing was refunded. "
                    "The log has Stripe's reason."
                )
            ) from exc
        with transaction.atomic():
            refund, _created = Refund.objects.update_or_create(
                stripe_id=made.id,
                defaults={
                    "order": order,
                    "payment_intent_id": paid_by.payment_intent_id,
                    "amount": made.amount,
                    "currency": order.currency,
                    "state": _STATE[made.state],
                    "failure_reason": made.failure_reason[:100],
                    "requested_by": requested_by[:150],
                    "note": note[:500],
                    "idempotency_key": key,
                },
            )
            logger.info(
                "order %s: refund %s of %s (%s) by %s",
                order.pk,
                made.id,
                made.amount,
                made.state,
                requested_by,
            )
            if made.failed:
                return refund  # nothing went back to the customer: nothing comes back to stock
            if amount == left and not lines:
                # All that was left is refunded: what gift cards paid goes back to them too.
                gift_card_ledger.refund(order=order, by=requested_by, note=f"refund {made.id}")
            RefundLine.objects.bulk_create(
                RefundLine(refund=refund, line_id=line_id, quantity=units, restocked=restock)
                for line_id, units in lines.items()
            )
            if restock and lines:
                items = dict(OrderLine.objects.filter(pk__in=lines).values_list("pk", "item_id"))
                lifecycle.order_return_stock(
                    order_id=order.pk,
                    source=f"refund {made.id}",
                    items={items[line_id]: units for line_id, units in lines.items()},
                )
            _settle_order(
                order, source=f"refund {made.id} by {requested_by}", customer_told=customer_told
            )
            return refund


def _amount_checked(
    order: Order, lines: dict[int, int], *, amount: int | None, left: int, at_most: int | None
) -> int:
    """What to refund (see refund_order's `amount`), refused when it is nothing, more than is
    left, or more than the staff member may refund."""
    if amount is None:
        amount = min(returned_amount(order, lines), left) if lines else left
    if not 0 < amount <= left:
        raise RefundFailed(
            _("The amount to refund must be more than nothing and at most what is left.")
        )
    if at_most is not None and amount > at_most:
        raise RefundFailed(
            _("A refund of more than %(limit)s needs the owner's permission; nothing was refunded.")
            % {"limit": format_amount(from_minor(at_most, order.currency), order.currency)}
        )
    return amount


def _refund_to_gift_cards(
    order: Order,
    *,
    requested_by: str,
    lines: dict[int, int],
    amount: int,
    restock: bool,
    note: str,
    customer_told: bool,
) -> Refund:
    """Refund an order its gift cards paid in full: the cards get the amount back (the first
    applied first), recorded as a refund of the order like one through Stripe."""
    with transaction.atomic():
        number = Refund.objects.filter(order=order).count() + 1
        reference = f"giftcard-{order.pk}-{number}"
        given = gift_card_ledger.refund(
            order=order, by=requested_by, note=note or reference, at_most=amount
        )
        refund = Refund.objects.create(
            order=order,
            stripe_id=reference,
            payment_intent_id="",
            amount=given,
            currency=order.currency,
            state=Refund.State.SUCCEEDED,
            requested_by=requested_by[:150],
            note=note[:500],
        )
        RefundLine.objects.bulk_create(
            RefundLine(refund=refund, line_id=line_id, quantity=units, restocked=restock)
            for line_id, units in lines.items()
        )
        if restock and lines:
            items = dict(OrderLine.objects.filter(pk__in=lines).values_list("pk", "item_id"))
            lifecycle.order_return_stock(
                order_id=order.pk,
                source=reference,
                items={items[line_id]: units for line_id, units in lines.items()},
            )
        _settle_order(order, source=f"{reference} by {requested_by}", customer_told=customer_told)
        return refund


def _settle_order(order: Order, *, source: str, customer_told: bool = False) -> bool:
    """The order's refunded total made what its succeeded refunds add up to."""
    succeeded = Refund.objects.filter(order=order, state=Refund.State.SUCCEEDED)
    total = int(succeeded.aggregate(total=Sum("amount"))["total"] or 0)
    tax_records.refunds_settled(order=order)
    return lifecycle.order_mark_refunded(
        order_id=order.pk, amount_refunded=total, source=source, customer_told=customer_told
    )


def _moves(recorded: str, reported: results.RefundState) -> bool:
    """Whether a report changes the recorded state: never back from a later step (events come
    late and out of order), never out of a final one."""
    now = results.RefundState(recorded)
    if now.is_final or now is reported:
        return False
    return reported.rank >= now.rank


@transaction.atomic
def refund_reported(report: results.Refund, *, source: str) -> bool:
    """What Stripe says of a refund (an event, or its list of a payment's refunds), recorded:
    a refund made elsewhere (the Dashboard) is added, a known one follows its state. A refund
    that fails tells staff. True if anything changed.

    Raises LookupError when no order is known to be paid by the refund's payment yet (the
    payment's own event may still be on its way: Stripe retries this one)."""
    if not results.is_stripe_id(report.payment_intent_id) or not results.is_stripe_id(report.id):
        return False  # a charge with no PaymentIntent: nothing the shop took
    attempt = PaymentAttempt.objects.filter(
        payment_intent_id=report.payment_intent_id, state=PaymentAttempt.State.PAID
    ).first()
    if attempt is None:
        raise LookupError(f"No order is paid by {report.payment_intent_id} (yet).")
    order = Order.objects.select_for_update().get(pk=attempt.order_id)
    refund = Refund.objects.filter(stripe_id=report.id).first()
    if refund is None:
        _replaces_unrecorded(order, report)
        refund = Refund.objects.create(
            order=order,
            stripe_id=report.id,
            payment_intent_id=report.payment_intent_id,
            amount=report.amount,
            currency=order.currency,
            state=_STATE[report.state],
            failure_reason=report.failure_reason[:100],
            requested_by="Stripe",
        )
        changed = True
        failed_now = report.failed
    elif _moves(refund.state, report.state):
        failed_now = report.failed
        refund.state = _STATE[report.state]
        refund.failure_reason = report.failure_reason[:100]
        refund.save(update_fields=["state", "failure_reason", "updated_at"])
        changed = True
    else:
        changed = failed_now = False
    if failed_now:
        _tell_staff_it_failed(refund)
    settled = _settle_order(order, source=source)
    return changed or settled


def _replaces_unrecorded(order: Order, report: results.Refund) -> None:
    """A refund from before refunds were recorded, now known by its id: the stand-in row's
    amount shrinks by it (and goes once it is all accounted for)."""
    standing_in = Refund.objects.filter(order=order, stripe_id__startswith=UNRECORDED).first()
    if standing_in is None or report.created > standing_in.created_at.timestamp():
        return
    standing_in.amount -= min(report.amount, standing_in.amount)
    if standing_in.amount:
        standing_in.save(update_fields=["amount", "updated_at"])
    else:
        standing_in.delete()


def refunds_reported(*, payment_intent_id: str, source: str) -> bool:
    """Stripe says a payment was refunded (charge.refunded): its refunds, read from Stripe as
    they are now, recorded. True if anything changed."""
    if not results.is_stripe_id(payment_intent_id):
        return False
    attempt = PaymentAttempt.objects.filter(
        payment_intent_id=payment_intent_id, state=PaymentAttempt.State.PAID
    ).first()
    if attempt is None:
        raise LookupError(f"No order is paid by {payment_intent_id} (yet).")
    reported = stripe_refunds.refunds_of(
        currency=attempt.currency, payment_intent_id=payment_intent_id
    )
    changed = False
    for report in reported:
        changed = refund_reported(report, source=source) or changed
    return changed


def _tell_staff_it_failed(refund: Refund) -> None:
    amount = format_amount(from_minor(refund.amount, refund.currency), refund.currency)
    logger.warning(
        "order %s: refund %s of %s failed (%s)",
        refund.order_id,
        refund.stripe_id,
        amount,
        refund.failure_reason or "no reason given",
    )
    notify_staff(
        key=f"refund-failed:{refund.stripe_id}",
        subject=f"A refund of order #{refund.order_id} failed",
        body=(
            f"Stripe could not return {amount} to the customer of order #{refund.order_id} "
            f"(refund {refund.stripe_id}, reason: {refund.failure_reason or 'none given'}). "
            "The order no longer counts it as refunded. Refund again, or pay the customer "
            "back another way; the order's page in the admin lists its refunds."
        ),
    )
