"""A customer back from Stripe: confirm with Stripe what the return URL only claims."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from kassa.orders.models import Order
from kassa.payments.fulfilment import fulfil
from kassa.payments.methods import all_methods
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api.errors import PaymentError
from kassa.stripe_api.results import is_stripe_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Return:
    order: Order | None
    # Stripe says this payment did not go through (a declined card after a redirect).
    failed: bool = False


def confirm_return(*, query: Mapping[str, str]) -> Return:
    """The order the return is about, fulfilled if Stripe says it is paid (webhook or not).
    `query` is the return URL's: each kind names its object in a parameter of its own."""
    found = next(
        (
            (method, query[method.return_parameter])
            for method in all_methods()
            if query.get(method.return_parameter)
        ),
        None,
    )
    if found is None:
        return Return(order=None)
    method, stripe_id = found
    if not is_stripe_id(stripe_id):
        return Return(order=None)  # not an id Stripe makes (a typo, or a NUL for the database)
    attempt = (
        PaymentAttempt.objects.filter(kind=method.kind, stripe_id=stripe_id)
        .select_related("order")
        .order_by("-number")
        .first()
    )
    if attempt is None:
        return Return(order=None)
    order = attempt.order
    failed = False
    if not order.is_paid:
        try:
            remote = method.retrieve(currency=order.currency, stripe_id=stripe_id)
            fulfil(remote, source=f"return from {method.label} {stripe_id}")
            failed = remote.declined
        except PaymentError as exc:
            # The webhook will still arrive; the page says the payment is being confirmed.
            logger.warning("could not confirm return for order %s: %s", order.pk, exc.message)
        order.refresh_from_db()
    return Return(order=order, failed=failed)
