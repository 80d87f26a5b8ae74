"""The one door to Stripe: every API call of the shop goes through this module.

It pins the API version, sets timeouts and retries, passes the currency's secret key per request,
sets idempotency keys, and turns stripe-python's exceptions into `kassa.payments.errors`.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings
from stripe.params import CouponCreateParams, TaxRateCreateParams
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


def _call(label: str, fn: Any, /, *args: str, **params: Any) -> Any:
    _configure()
    try:
        return fn(*args, stripe_version=API_VERSION, **params)
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("stripe %s unreachable: %s", label, type(exc).__name__)
        raise PaymentProviderUnavailable(
            "The payment provider cannot be reached right now. Please try again in a minute."
        ) from exc
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        logger.error(
            "stripe %s failed: status=%s code=%s request_id=%s",
            label,
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


def _create(
    label: str,
    fn: Any,
    /,
    *args: str,
    currency: str,
    idempotency_key: str,
    params: Mapping[str, Any],
) -> Any:
    """A POST to Stripe in the currency's account, logged with Stripe's request id."""
    keypair = ensure_configured(currency)
    created = _call(
        label, fn, *args, api_key=keypair.secret, idempotency_key=idempotency_key, **params
    )
    response = created.last_response
    logger.info(
        "stripe %s ok: id=%s request_id=%s",
        label,
        created.id,
        response.request_id if response else "-",
    )
    return created


def _checkout_session(session: Any) -> CheckoutSession:
    return CheckoutSession(
        id=session.id,
        url=session.url or "",
        status=session.status or "",
        payment_status=session.payment_status,
    )


def create_checkout_session(
    *, currency: str, params: SessionCreateParams, idempotency_key: str
) -> CheckoutSession:
    session = _create(
        "checkout.Session.create",
        stripe.checkout.Session.create,
        currency=currency,
        idempotency_key=idempotency_key,
        params=params,
    )
    return _checkout_session(session)


def create_coupon(*, currency: str, params: CouponCreateParams, idempotency_key: str) -> str:
    coupon = _create(
        "Coupon.create",
        stripe.Coupon.create,
        currency=currency,
        idempotency_key=idempotency_key,
        params=params,
    )
    return str(coupon.id)


def create_tax_rate(*, currency: str, params: TaxRateCreateParams, idempotency_key: str) -> str:
    tax_rate = _create(
        "TaxRate.create",
        stripe.TaxRate.create,
        currency=currency,
        idempotency_key=idempotency_key,
        params=params,
    )
    return str(tax_rate.id)


def retrieve_checkout_session(*, currency: str, session_id: str) -> CheckoutSession:
    keypair = ensure_configured(currency)
    session = _call(
        "checkout.Session.retrieve",
        stripe.checkout.Session.retrieve,
        session_id,
        api_key=keypair.secret,
    )
    return _checkout_session(session)


def expire_checkout_session(*, currency: str, session_id: str) -> CheckoutSession:
    session = _create(
        "checkout.Session.expire",
        stripe.checkout.Session.expire,
        session_id,
        currency=currency,
        idempotency_key=f"kassa-expire-{session_id}",
        params={},
    )
    return _checkout_session(session)
