"""Personal data on request: everything the shop keeps about a customer, as JSON, and the
account's deletion, which erases that data while the orders' amounts, lines and payment records
stay for the shop's accounts.

What holds a customer's personal data: their account and saved addresses, the orders paid with
their e-mail or placed while signed in (contact, shipping address), the mail sent to them
(addresses, and what a queued mail says), their return requests (the reason is their own
words), their sign-in codes, and the raw Stripe events the shop kept (Stripe's customer
details). The shop makes no Stripe Customer (Checkout is given the e-mail), so nothing in Stripe
is the shop's to delete: Stripe keeps its own payment records under its own retention rules.
"""

import logging
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from kassa.customers.models import Customer, ReturnRequest, SignInCode
from kassa.notifications.models import Mail
from kassa.orders import cart_versions
from kassa.orders.models import Order
from kassa.payments.models import WebhookEvent

logger = logging.getLogger(__name__)

# The keys of a Stripe object that carry a person's details, wherever they are nested.
_STRIPE_PERSONAL = {
    "email",
    "customer_email",
    "receipt_email",
    "name",
    "phone",
    "address",
    "customer_details",
    "shipping_details",
    "shipping",
    "billing_details",
    "collected_information",
    "individual_name",
    "business_name",
}


def customer_orders(customer: Customer) -> QuerySet[Order]:
    """The customer's orders: placed while signed in, or paid with their e-mail."""
    return Order.objects.filter(Q(user_id=customer.user_id) | Q(email__iexact=customer.email))


def _mails(customer: Customer, order_ids: list[int]) -> QuerySet[Mail]:
    return Mail.objects.filter(
        Q(order_id__in=order_ids) & ~Q(kind__startswith="staff")
        | Q(kind=Mail.Kind.SIGN_IN, recipients__iexact=customer.email)
        | Q(kind=Mail.Kind.SIGN_IN, context__to=customer.email)
    )


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def personal_data_export(*, customer: Customer) -> dict[str, Any]:
    """Everything the shop keeps about the customer, as JSON can hold it."""
    orders = list(customer_orders(customer).prefetch_related("lines__item").order_by("id"))
    order_ids = [order.pk for order in orders]
    returns = (
        ReturnRequest.objects.filter(Q(customer=customer) | Q(order_id__in=order_ids))
        .prefetch_related("lines__order_line__item")
        .order_by("id")
    )
    return {
        "account": {
            "email": customer.email,
            "created_at": _when(customer.created_at),
            "last_sign_in_at": _when(customer.last_sign_in_at),
        },
        "addresses": [
            {"lines": address.lines, "updated_at": _when(address.updated_at)}
            for address in customer.addresses.all()
        ],
        "orders": [
            {
                "id": order.pk,
                "status": order.status,
                "currency": order.currency,
                "created_at": _when(order.created_at),
                "paid_at": _when(order.paid_at),
                "amount_paid": order.amount_paid,
                "amount_refunded": order.amount_refunded,
                "email": order.email,
                "name": order.customer_name,
                "phone": order.phone,
                "shipping_address": order.shipping_address_lines,
                "fulfilment": order.fulfilment_status,
                "tracking_number": order.tracking_number,
                "lines": [
                    {
                        "item": line.item.name,
                        "quantity": line.quantity,
                        "unit_price": str(line.unit_price),
                    }
                    for line in order.lines.all()
                ],
            }
            for order in orders
        ],
        "return_requests": [
            {
                "id": request.pk,
                "order": request.order_id,
                "status": request.status,
                "reason": request.reason,
                "created_at": _when(request.created_at),
                "decided_at": _when(request.decided_at),
                "note": request.staff_note,
                "amount_refunded": request.amount_refunded,
                "lines": [
                    {"item": line.order_line.item.name, "quantity": line.quantity}
                    for line in request.lines.all()
                ],
            }
            for request in returns
        ],
        "emails": [
            {
                "kind": mail.kind,
                "order": mail.order_id,
                "subject": mail.subject,
                "to": mail.recipients,
                "state": mail.state,
                "created_at": _when(mail.created_at),
                "sent_at": _when(mail.sent_at),
            }
            for mail in _mails(customer, order_ids).order_by("id")
        ],
    }


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: (None if key in _STRIPE_PERSONAL else _scrub(inner))
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_scrub(inner) for inner in value]
    return value


@transaction.atomic
def customer_delete(*, customer_id: int, source: str) -> int:
    """Delete the account and erase the customer's personal data everywhere the shop keeps it;
    the orders stay with their amounts, lines and payments. Returns how many orders were
    erased."""
    customer = Customer.objects.select_for_update().select_related("user").get(pk=customer_id)
    email = customer.email
    orders = customer_orders(customer)
    order_ids = list(orders.values_list("pk", flat=True))
    # The Stripe events first: they are found by the order's e-mail, which is erased next.
    erased_events = 0
    events = WebhookEvent.objects.annotate(text=Cast("payload", TextField())).filter(
        text__icontains=email
    )
    for event in events.only("pk", "payload"):
        WebhookEvent.objects.filter(pk=event.pk).update(payload=_scrub(event.payload))
        erased_events += 1
    _mails(customer, order_ids).update(recipients="", context={})
    # The account's cart is no longer theirs: its other devices read their header afresh.
    cart_versions.owners_changed([("", customer.user_id)])
    Order.objects.filter(pk__in=order_ids).update(
        user=None,
        email="",
        customer_name="",
        phone="",
        shipping_name="",
        shipping_line1="",
        shipping_line2="",
        shipping_postal_code="",
        shipping_city="",
        shipping_state="",
        shipping_country="",
        updated_at=timezone.now(),
    )
    ReturnRequest.objects.filter(Q(customer=customer) | Q(order_id__in=order_ids)).update(
        reason="", customer=None
    )
    SignInCode.objects.filter(email=email).delete()
    user = customer.user
    customer.delete()
    user.delete()
    logger.info(
        "customer %s deleted (%s): %s orders and %s Stripe events erased",
        customer_id,
        source,
        len(order_ids),
        erased_events,
    )
    return len(order_ids)
