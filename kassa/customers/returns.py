"""Returns asked for online: a customer picks lines and quantities of a paid order within
SHOP_RETURN_DAYS of its payment (or delivery); staff approve, which refunds those lines, or
reject with a note. The customer gets one mail at each step, through the mail queue.

A line is never returned beyond its quantity: a request is written with its order's row
locked, so two requests at once are taken one after the other and the second sees the first.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.customers.errors import ReturnAlreadyDecided, ReturnRefused
from kassa.customers.models import Customer, ReturnLine, ReturnRequest
from kassa.integrations.events import order_subject, webhook_emit
from kassa.integrations.models import EventType
from kassa.notifications.models import Mail
from kassa.notifications.services import mail_queue
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals
from kassa.payments.errors import RefundFailed
from kassa.payments.refunds import ReturnedLine, refund_order

logger = logging.getLogger(__name__)
Status = ReturnRequest.Status
_COUNTS = (Status.REQUESTED, Status.APPROVING, Status.APPROVED)


def return_deadline(order: Order) -> datetime | None:
    """Until when `order` may be returned: SHOP_RETURN_DAYS after delivery, or after payment if
    it was not delivered (yet); None for an order that was not paid."""
    start = order.delivered_at or order.paid_at
    if not order.is_paid or start is None:
        return None
    return start + timedelta(days=settings.SHOP_RETURN_DAYS)


def returnable(order: Order) -> dict[int, int]:
    """How many of each line (by id) can still be asked back: what was bought, less what open
    or approved requests ask for."""
    asked = dict(
        ReturnLine.objects.filter(request__order=order, request__status__in=_COUNTS)
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values_list("order_line", "total")
    )
    return {
        line.pk: line.quantity - asked.get(line.pk, 0)
        for line in OrderLine.objects.filter(order=order).order_by("id")
    }


def can_return(order: Order) -> bool:
    """A return can be asked for `order` now (its page offers the form)."""
    deadline = return_deadline(order)
    return (
        deadline is not None
        and timezone.now() <= deadline
        and order.status != Order.Status.REFUNDED
        and any(left > 0 for left in returnable(order).values())
    )


def return_request_create(
    *, order_id: int, quantities: dict[int, int], reason: str, customer: Customer | None
) -> ReturnRequest:
    """Ask to return `quantities` of the order's lines (by line id); ReturnRefused if it is too
    late, the order is refunded, or a quantity is more than is left to return."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        deadline = return_deadline(order)
        if deadline is None or order.status == Order.Status.REFUNDED:
            raise ReturnRefused(_("This order cannot be returned."))
        if timezone.now() > deadline:
            raise ReturnRefused(
                _("The time to return this order ended on %(date)s.")
                % {"date": deadline.date().isoformat()}
            )
        wanted = {pk: quantity for pk, quantity in quantities.items() if quantity > 0}
        if not wanted:
            raise ReturnRefused(_("Choose at least one item to return."))
        left = returnable(order)
        for pk, quantity in wanted.items():
            if pk not in left:
                raise ReturnRefused(_("That item is not part of this order."))
            if quantity > left[pk]:
                raise ReturnRefused(
                    _("Only %(left)s of that item can still be returned.") % {"left": left[pk]}
                )
        request = ReturnRequest.objects.create(
            order=order, customer=customer, reason=reason.strip()
        )
        lines = ReturnLine.objects.bulk_create(
            ReturnLine(request=request, order_line_id=pk, quantity=quantity)
            for pk, quantity in sorted(wanted.items())
        )
        names = dict(OrderLine.objects.filter(pk__in=list(wanted)).values_list("pk", "item__name"))
        mail_queue(
            key=f"return-requested:{request.pk}",
            kind=Mail.Kind.RETURN_REQUESTED,
            order_id=order.pk,
            language=order.language,
            returned=[
                {"name": names[line.order_line_id], "quantity": line.quantity} for line in lines
            ],
        )
        _tell_other_systems(EventType.RETURN_REQUESTED, request)
    logger.info("order %s: return %s asked for", order_id, request.pk)
    return request


@dataclass(frozen=True)
class Decision:
    request: ReturnRequest
    refunded: int  # minor units


def return_amount(request: ReturnRequest) -> int:
    """What the request's lines were charged (their share of the discount off, their tax on),
    in minor units; with the shipping if staff refund it too."""
    order = request.order
    totals = order_totals(order, list(order.lines.select_related("item")))
    charged = {
        line.line.pk: (
            line.line.quantity,
            line.amount - line.discount + (0 if totals.tax_inclusive else line.tax),
        )
        for line in totals.lines
    }
    amount = 0
    for returned in request.lines.all():
        bought, paid = charged[returned.order_line_id]
        share = Fraction(paid * returned.quantity, bought)
        amount += int(share + Fraction(1, 2))  # half up; all of a line is all it paid
    if request.refund_shipping:
        amount += order.shipping_amount
    paid = order.amount_paid or 0
    return min(amount, paid - order.amount_refunded)


def _refund(*, request: ReturnRequest, amount: int, requested_by: str) -> str:
    """The one place a return moves money: the shop's refund service, told which units came
    back (and to put them back on sale when staff said so). Returns Stripe's refund id."""
    returned = [
        ReturnedLine(line_id=line.order_line_id, quantity=line.quantity)
        for line in request.lines.all()
    ]
    refund = refund_order(
        order_id=request.order_id,
        requested_by=requested_by,
        returned=returned,
        amount=amount,
        restock=request.restock,
        note=f"return {request.pk}",
        customer_told=True,  # the approval mail names the amount: one mail, not two
    )
    return refund.stripe_id


def _tell_other_systems(event_type: str, request: ReturnRequest) -> None:
    """The outgoing webhook, written in the transaction that asks for or decides the return and
    in line with the order's other events."""
    webhook_emit(
        event_type=event_type, object_id=request.pk, subject=order_subject(request.order_id)
    )


def return_approve(*, request_id: int, decided_by: str) -> Decision:
    """Refund the request's lines (and shipping if staff said so), put the items back in stock
    if staff said so, and tell the customer. The request is claimed first, so two staff
    clicking at once make one refund; a refund Stripe refuses leaves it to decide again."""
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=request_id)
        if request.status != Status.REQUESTED:
            raise ReturnAlreadyDecided(_("This return request was decided already."))
        request.status = Status.APPROVING
        request.decided_by = decided_by[:150]
        request.save(update_fields=["status", "decided_by"])
    request = ReturnRequest.objects.select_related("order").get(pk=request_id)
    amount = return_amount(request)
    try:
        refund_id = (
            _refund(request=request, amount=amount, requested_by=decided_by) if amount > 0 else ""
        )
    except RefundFailed:
        ReturnRequest.objects.filter(pk=request_id).update(status=Status.REQUESTED)
        raise
    with transaction.atomic():
        request = (
            ReturnRequest.objects.select_for_update().select_related("order").get(pk=request_id)
        )
        request.status = Status.APPROVED
        request.amount_refunded = amount
        request.refund_id = refund_id
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "amount_refunded", "refund_id", "decided_at"])
        mail_queue(
            key=f"return-approved:{request.pk}",
            kind=Mail.Kind.RETURN_APPROVED,
            order_id=request.order_id,
            language=request.order.language,
            amount_refunded=amount,
            note=request.staff_note,
        )
        _tell_other_systems(EventType.RETURN_DECIDED, request)
    logger.info("return %s approved by %s: %s refunded", request_id, decided_by, amount)
    return Decision(request=request, refunded=amount)


def return_reject(*, request_id: int, decided_by: str, note: str | None = None) -> ReturnRequest:
    """Refuse the request, with staff's note (`note`, or the one on the request) to the
    customer."""
    with transaction.atomic():
        request = (
            ReturnRequest.objects.select_for_update().select_related("order").get(pk=request_id)
        )
        if request.status != Status.REQUESTED:
            raise ReturnAlreadyDecided(_("This return request was decided already."))
        if note is not None:
            request.staff_note = note
        request.status = Status.REJECTED
        request.decided_by = decided_by[:150]
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "staff_note", "decided_by", "decided_at"])
        mail_queue(
            key=f"return-rejected:{request.pk}",
            kind=Mail.Kind.RETURN_REJECTED,
            order_id=request.order_id,
            language=request.order.language,
            note=request.staff_note,
        )
        _tell_other_systems(EventType.RETURN_DECIDED, request)
    logger.info("return %s rejected by %s", request_id, decided_by)
    return request
