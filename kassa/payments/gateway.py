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
from django.utils.translation import gettext as _
from stripe.params import CouponCreateParams, PaymentIntentCreateParams, TaxRateCreateParams
from stripe.params.checkout import SessionCreateParams

from kassa.payments.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
)
from kassa.payments.http import Urllib3Client
from kassa.payments.keys import Keypair, keypair_for

logger = logging.getLogger(__name__)

# The API version stripe==16.1.0 is built for. Upgrading the library means reading Stripe's
# changelog between the two versions, then changing both together.
API_VERSION = "2026-10-28.endive"

_http_clients: dict[tuple[float, str], stripe.HTTPClient] = {}


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int
    currency: str
    payment_intent: str
    order_id: str  # our metadata


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str  # requires_payment_method, ..., processing, succeeded, canceled
    amount: int
    amount_received: int
    currency: str
    client_secret: str
    order_id: str  # our metadata


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    amount: int


def _configure() -> None:
    """Apply settings to stripe-python's module globals (cheap; done before every call so
    settings overridden at run time, as tests do, take effect)."""
    stripe.api_base = settings.STRIPE_API_BASE or stripe.DEFAULT_API_BASE
    stripe.max_network_retries = settings.STRIPE_MAX_NETWORK_RETRIES
    stripe.enable_telemetry = False
    key = (float(settings.STRIPE_TIMEOUT_SECONDS), stripe.api_base)
    if key not in _http_clients:
        _http_clients[key] = Urllib3Client(timeout=key[0], api_base=key[1])
    stripe.default_http_client = _http_clients[key]


def ensure_configured(currency: str) -> Keypair:
    """The currency's keypair, or PaymentsNotConfigured before anything is written."""
    keypair = keypair_for(currency)
    if keypair is None:
        raise PaymentsNotConfigured(_("Payments are not configured for this shop yet."))
    return keypair


def _call(label: str, fn: Any, /, *args: str, **params: Any) -> Any:
    _configure()
    try:
        return fn(*args, stripe_version=API_VERSION, **params)
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("stripe %s unreachable: %s", label, type(exc).__name__)
        raise PaymentProviderUnavailable(
            _("The payment provider cannot be reached right now. Please try again in a minute.")
        ) from exc
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        logger.error(
            "stripe %s failed: status=%s code=%s stripe_request_id=%s",
            label,
            status,
            exc.code,
            exc.request_id,
        )
        if status >= 500:
            raise PaymentProviderUnavailable(
                _("The payment provider is having trouble right now. Please try again in a minute.")
            ) from exc
        raise PaymentProviderRejected(
            _("The payment could not be started. The shop has been told; please try again later.")
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
        "stripe %s ok: id=%s stripe_request_id=%s",
        label,
        created.id,
        response.request_id if response else "-",
    )
    return created.to_dict()


def _order_id(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("order_id") or "")


def _checkout_session(session: dict[str, Any]) -> CheckoutSession:
    payment_intent = session.get("payment_intent") or ""
    return CheckoutSession(
        id=session["id"],
        url=session.get("url") or "",
        status=session.get("status") or "",
        payment_status=session.get("payment_status") or "",
        amount_total=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or "").lower(),
        payment_intent=payment_intent if isinstance(payment_intent, str) else payment_intent["id"],
        order_id=_order_id(session),
    )


def checkout_session_from_event(data: dict[str, Any]) -> CheckoutSession:
    return _checkout_session(data)


def _payment_intent(intent: dict[str, Any]) -> PaymentIntent:
    return PaymentIntent(
        id=intent["id"],
        status=intent.get("status") or "",
        amount=int(intent.get("amount") or 0),
        amount_received=int(intent.get("amount_received") or 0),
        currency=str(intent.get("currency") or "").lower(),
        client_secret=intent.get("client_secret") or "",
        order_id=_order_id(intent),
    )


def payment_intent_from_event(data: dict[str, Any]) -> PaymentIntent:
    return _payment_intent(data)


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
    return str(coupon["id"])


def create_tax_rate(*, currency: str, params: TaxRateCreateParams, idempotency_key: str) -> str:
    tax_rate = _create(
        "TaxRate.create",
        stripe.TaxRate.create,
        currency=currency,
        idempotency_key=idempotency_key,
        params=params,
    )
    return str(tax_rate["id"])


def _retrieve(label: str, fn: Any, object_id: str, /, *, currency: str) -> dict[str, Any]:
    """A GET from Stripe in the currency's account, as a plain dict."""
    keypair = ensure_configured(currency)
    return dict(_call(label, fn, object_id, api_key=keypair.secret).to_dict())


def retrieve_checkout_session(*, currency: str, session_id: str) -> CheckoutSession:
    return _checkout_session(
        _retrieve(
            "checkout.Session.retrieve",
            stripe.checkout.Session.retrieve,
            session_id,
            currency=currency,
        )
    )


def checkout_session_paid_by(*, currency: str, payment_intent_id: str) -> CheckoutSession | None:
    """The Checkout Session whose payment is `payment_intent_id`, if one made it."""
    keypair = ensure_configured(currency)
    found = _call(
        "checkout.Session.list",
        stripe.checkout.Session.list,
        api_key=keypair.secret,
        payment_intent=payment_intent_id,
        limit=1,
    )
    sessions = [_checkout_session(session.to_dict()) for session in found.data]
    return sessions[0] if sessions else None


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


def create_payment_intent(
    *, currency: str, params: PaymentIntentCreateParams, idempotency_key: str
) -> PaymentIntent:
    intent = _create(
        "PaymentIntent.create",
        stripe.PaymentIntent.create,
        currency=currency,
        idempotency_key=idempotency_key,
        params=params,
    )
    return _payment_intent(intent)


def update_payment_intent_amount(
    *, currency: str, payment_intent_id: str, amount: int, idempotency_key: str
) -> PaymentIntent:
    intent = _create(
        "PaymentIntent.modify",
        stripe.PaymentIntent.modify,
        payment_intent_id,
        currency=currency,
        idempotency_key=idempotency_key,
        params={"amount": amount},
    )
    return _payment_intent(intent)


def retrieve_payment_intent(*, currency: str, payment_intent_id: str) -> PaymentIntent:
    return _payment_intent(
        _retrieve(
            "PaymentIntent.retrieve",
            stripe.PaymentIntent.retrieve,
            payment_intent_id,
            currency=currency,
        )
    )


def cancel_payment_intent(*, currency: str, payment_intent_id: str) -> PaymentIntent:
    intent = _create(
        "PaymentIntent.cancel",
        stripe.PaymentIntent.cancel,
        payment_intent_id,
        currency=currency,
        idempotency_key=f"kassa-cancel-{payment_intent_id}",
        params={},
    )
    return _payment_intent(intent)


def create_refund(*, currency: str, payment_intent_id: str, idempotency_key: str) -> Refund:
    """A full refund of the payment; a repeated key returns the same refund, never a second."""
    refund = _create(
        "Refund.create",
        stripe.Refund.create,
        currency=currency,
        idempotency_key=idempotency_key,
        params={"payment_intent": payment_intent_id},
    )
    return Refund(id=refund["id"], status=refund.get("status") or "", amount=int(refund["amount"]))


class InvalidWebhook(Exception):
    """A webhook whose signature is missing, forged or too old."""


def verify_webhook(*, payload: bytes, signature: str, secrets: list[str]) -> dict[str, Any]:
    """The event, if `signature` proves one of our webhook secrets signed `payload` recently."""
    if not signature:
        raise InvalidWebhook("No Stripe-Signature header.")
    for secret in secrets:
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret)
        except stripe.SignatureVerificationError:
            continue
        except ValueError as exc:
            raise InvalidWebhook("The payload is not JSON.") from exc
        return dict(event.to_dict())
    raise InvalidWebhook("The signature does not match any webhook secret, or is too old.")
