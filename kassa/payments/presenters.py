"""A started payment as JSON clients see it: the same body from the seed's endpoints
(`/buy/<id>`, `/orders/<id>/buy/`) and from the API (kassa.api)."""

from typing import Any

from kassa.payments.flow import Started


def checkout_session_json(started: Started) -> dict[str, Any]:
    """Where to send the customer: the Checkout Session's id and URL, and the order it pays."""
    return {"id": started.attempt.stripe_id, "url": started.url, "order_id": started.order.pk}


def payment_intent_json(started: Started, *, return_url: str) -> dict[str, Any]:
    """What the Payment Element needs to pay the order's PaymentIntent."""
    order = started.order
    # Stripe sends the customer back to return_url with ?payment_intent=<id>&redirect_status=…
    return {
        "client_secret": started.client_secret,
        "amount": started.amount,
        "currency": order.currency,
        "order_id": order.pk,
        "return_url": return_url,
    }
