"""Checkout Sessions at Stripe: made, read, listed and expired."""

from stripe.params.checkout import SessionCreateParams, SessionListParams

from kassa.stripe_api import results
from kassa.stripe_api.client import call, client_for, create, keyed, retrieve
from kassa.stripe_api.results import CheckoutSession, SessionPage


def create_session(
    *, currency: str, params: SessionCreateParams, idempotency_key: str
) -> CheckoutSession:
    client = client_for(currency)
    # The spec's stripe.checkout.Session.create: the client's sessions.create is the same
    # endpoint (POST /v1/checkout/sessions) with the same parameters, the secret key and the
    # API version coming from the client instead of from each call.
    session = create(
        "checkout.Session.create",
        lambda: client.v1.checkout.sessions.create(params=params, options=keyed(idempotency_key)),
    )
    return results.checkout_session(session)


def retrieve_session(*, currency: str, session_id: str) -> CheckoutSession:
    client = client_for(currency)
    # The tax per rate (Stripe Tax) comes only when asked for.
    return results.checkout_session(
        retrieve(
            "checkout.Session.retrieve",
            lambda: client.v1.checkout.sessions.retrieve(
                session_id, params={"expand": ["total_details.breakdown"]}
            ),
        )
    )


def session_paid_by(*, currency: str, payment_intent_id: str) -> CheckoutSession | None:
    """The Checkout Session whose payment is `payment_intent_id`, if one made it."""
    client = client_for(currency)
    found = call(
        "checkout.Session.list",
        lambda: client.v1.checkout.sessions.list(
            params={"payment_intent": payment_intent_id, "limit": 1}
        ),
    )
    sessions = [results.checkout_session(session.to_dict()) for session in found.data]
    return sessions[0] if sessions else None


def sessions_created(
    *, currency: str, since: int, until: int, starting_after: str = ""
) -> SessionPage:
    """One page (newest first) of the Checkout Sessions made in the currency's account between
    `since` and `until` (Unix seconds, inclusive); `starting_after` the last one of the page
    before."""
    client = client_for(currency)
    params: SessionListParams = {"created": {"gte": since, "lte": until}, "limit": 100}
    if starting_after:
        params["starting_after"] = starting_after
    found = call("checkout.Session.list", lambda: client.v1.checkout.sessions.list(params=params))
    return SessionPage(
        sessions=[results.checkout_session(session.to_dict()) for session in found.data],
        has_more=bool(found.has_more),
    )


def expire_session(*, currency: str, session_id: str) -> CheckoutSession:
    client = client_for(currency)
    session = create(
        "checkout.Session.expire",
        lambda: client.v1.checkout.sessions.expire(
            session_id, options=keyed(f"kassa-expire-{session_id}")
        ),
    )
    return results.checkout_session(session)
