"""Refunds at Stripe: made, and listed for a payment."""

from stripe.params import RefundCreateParams

from kassa.stripe_api import results
from kassa.stripe_api.client import call, client_for, create, keyed
from kassa.stripe_api.results import Refund


def create_refund(
    *,
    currency: str,
    payment_intent_id: str,
    idempotency_key: str,
    amount: int | None = None,
    metadata: dict[str, str] | None = None,
) -> Refund:
    """A refund of the payment: of `amount` (minor units), or of all that is left without it.
    A repeated key returns the same refund, never a second."""
    client = client_for(currency)
    params: RefundCreateParams = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    if metadata:
        params["metadata"] = metadata
    refund = create(
        "Refund.create",
        lambda: client.v1.refunds.create(params=params, options=keyed(idempotency_key)),
    )
    return results.refund(refund)


def refunds_of(*, currency: str, payment_intent_id: str) -> list[Refund]:
    """Every refund of the payment, as Stripe has them now (at most 100: Stripe's page)."""
    client = client_for(currency)
    found = call(
        "Refund.list",
        lambda: client.v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100}),
    )
    return [results.refund(refund.to_dict()) for refund in found.data]
