"""The one door to Stripe: every API call of the shop goes through this module.

It pins the API version, sets timeouts and retries, passes the currency's secret key per request,
sets idempotency keys, and turns stripe-python's exceptions into `kassa.payments.errors`.
"""

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from stripe.params.checkout import SessionCreateParams

from kassa.payments.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
)
from kassa.payments.keys import Keypair, keypair_for

logger = logging.getLogger(__name__)

# The API version stripe==16.1.0 is built for. Upgrading the library means reading Stripe's
# changelog between the two versions, then changing both together.
API_VERSION = "2026-10-28.endive"

_http_clients: dict[float, stripe.HTTPClient] = {}


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str
    payment_status: str


def _configure() -> None:
    """Apply settings to stripe-python's module globals (cheap; done before every call so
    settings overridden at run time, as tests do, take effect)."""
    stripe.api_base = settings.STRIPE_API_BASE or stripe.DEFAULT_API_BASE
    stripe.max_network_retries = settings.STRIPE_MAX_NETWORK_RETRIES
    stripe.enable_telemetry = False
    timeout = float(settings.STRIPE_TIMEOUT_SECONDS)
    if timeout not in _http_clients:
        _http_clients[timeout] = stripe.RequestsClient(timeout=timeout)
    stripe.default_http_client = _http_clients[timeout]


def ensure_configured(currency: str) -> Keypair:
    """The currency's keypair, or PaymentsNotConfigured before anything is written."""
    keypair = keypair_for(currency)
    if keypair is None:
        raise PaymentsNotConfigured("Payments are not configured for this shop yet.")
    return keypair


def _call(description: str, fn: Any, /, **params: Any) -> Any:
    _configure()
    try:
        return fn(stripe_version=API_VERSION, **params)
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("stripe %s unreachable: %s", description, type(exc).__name__)
        raise PaymentProviderUnavailable(
            "The payment provider cannot be reached right now. Please try again in a minute."
        ) from exc
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        logger.error(
            "stripe %s failed: status=%s code=%s request_id=%s",
            description,
            status,
            exc.code,
            exc.request_id,
        )
        if status >= 500:
            raise PaymentProviderUnavailable(
                "The payment provider is having trouble right now. Please try again in a minute."
            ) from exc
        raise PaymentProviderRejected(
            "The payment could not be started. The shop has been told; please try again later."
        ) from exc


def create_checkout_session(
    *, currency: str, params: SessionCreateParams, idempotency_key: str
) -> CheckoutSession:
    keypair = ensure_configured(currency)
    session = _call(
        "checkout.Session.create",
        stripe.checkout.Session.create,
        api_key=keypair.secret,
        idempotency_key=idempotency_key,
        **params,
    )
    logger.info(
        "stripe checkout session created: %s request_id=%s",
        session.id,
        session.last_response.request_id if session.last_response else "-",
    )
    return CheckoutSession(
        id=session.id,
        url=session.url or "",
        status=session.status or "",
        payment_status=session.payment_status,
    )
