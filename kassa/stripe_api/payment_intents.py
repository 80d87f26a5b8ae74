"""PaymentIntents at Stripe: made, changed before they are confirmed, read and cancelled."""

from stripe import RequestOptions
from stripe.params import PaymentIntentCreateParams, PaymentIntentUpdateParams

from kassa.stripe_api import results
from kassa.stripe_api.client import client_for, create, keyed, retrieve
from kassa.stripe_api.results import PaymentIntent


def create_intent(
    *, currency: str, params: PaymentIntentCreateParams, idempotency_key: str
) -> PaymentIntent:
    client = client_for(currency)
    intent = create(
        "PaymentIntent.create",
        lambda: client.v1.payment_intents.create(params=params, options=keyed(idempotency_key)),
    )
    return results.payment_intent(intent)


def update_intent(
    *,
    currency: str,
    payment_intent_id: str,
    params: PaymentIntentUpdateParams,
    idempotency_key: str = "",
) -> PaymentIntent:
    """Change what the intent asks before it is confirmed. Without a key, stripe-python makes
    one per call for its retries: setting the same values again is harmless, and a key of ours
    reused for other values would replay the old answer."""
    client = client_for(currency)
    options: RequestOptions = keyed(idempotency_key) if idempotency_key else {}
    intent = create(
        "PaymentIntent.modify",
        lambda: client.v1.payment_intents.update(payment_intent_id, params=params, options=options),
    )
    return results.payment_intent(intent)


def retrieve_intent(*, currency: str, payment_intent_id: str) -> PaymentIntent:
    client = client_for(currency)
    return results.payment_intent(
        retrieve(
            "PaymentIntent.retrieve", lambda: client.v1.payment_intents.retrieve(payment_intent_id)
        )
    )


def cancel_intent(*, currency: str, payment_intent_id: str) -> PaymentIntent:
    client = client_for(currency)
    intent = create(
        "PaymentIntent.cancel",
        lambda: client.v1.payment_intents.cancel(
            payment_intent_id, options=keyed(f"kassa-cancel-{payment_intent_id}")
        ),
    )
    return results.payment_intent(intent)
