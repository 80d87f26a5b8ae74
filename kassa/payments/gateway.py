"""The one door to Stripe: every API call of the shop goes through this module.

Each keypair gets one `stripe.StripeClient`, built once with the pinned API version, the timeout,
the retries and the HTTP client; calls set idempotency keys, and stripe-python's exceptions
become `kassa.payments.errors`.
"""

import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.utils.translation import gettext as _
from stripe import RequestOptions
from stripe.params import (
    CouponCreateParams,
    PaymentIntentCreateParams,
    PaymentIntentUpdateParams,
    RefundCreateParams,
    ShippingRateCreateParams,
    TaxRateCreateParams,
)
from stripe.params.checkout import SessionCreateParams, SessionListParams

from kassa.metrics import instruments as metrics
from kassa.payments import guard
from kassa.payments.errors import (
    PaymentProviderBusy,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
    StripeObjectMissing,
)
from kassa.payments.http import Urllib3Client
from kassa.payments.keys import Keypair, keypair_for

logger = logging.getLogger(__name__)

# The API version stripe==16.1.0 is built for. Upgrading the library means reading Stripe's
# changelog between the two versions, then changing both together.
API_VERSION = "2026-10-28.endive"

# The one stripe-python global the shop sets, once, on import: StripeClient has no setting for
# telemetry, which would send each call's predecessor's timing to Stripe, put the platform string
# in every call's headers, and on the first call write an id file under $HOME/.config/stripe.
stripe.enable_telemetry = False

_StripeObject = TypeVar("_StripeObject", bound=stripe.StripeObject)


@dataclass(frozen=True)
class Buyer:
    """Who paid and where the goods go, as Stripe collected them (the pinned API version puts
    the buyer under `customer_details`, the address under
    `collected_information.shipping_details`, the chosen rate under `shipping_cost`)."""

    email: str = ""
    name: str = ""
    phone: str = ""
    shipping_name: str = ""
    line1: str = ""
    line2: str = ""
    postal_code: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    shipping_rate: str = ""  # Stripe's shr_ id (Checkout)
    shipping_amount: int = 0
    # Our ShippingRate and its name, as the shop put them in a PaymentIntent's metadata (only the
    # secret key writes metadata: the browser cannot).
    shipping_rate_id: int | None = None
    shipping_method: str = ""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int
    currency: str  # lower case, as Stripe writes it
    payment_intent: str
    order_id: str  # our metadata
    client_reference_id: str  # for people: what it says of itself, never what pays an order
    amount_shipping: int = 0  # part of amount_total
    buyer: Buyer = Buyer()


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str  # requires_payment_method, ..., processing, succeeded, canceled
    amount: int
    amount_received: int
    currency: str  # lower case, as Stripe writes it
    client_secret: str
    order_id: str  # our metadata
    buyer: Buyer = Buyer()


@dataclass(frozen=True)
class Refund:
    id: str
    status: str
    amount: int


@functools.lru_cache(maxsize=64)
def _build_client(
    keypair: Keypair, api_base: str, max_network_retries: int, timeout: float
) -> stripe.StripeClient:
    """The client for one keypair and the settings that shape it. Cached: a process builds one
    per keypair (two threads missing the cache at once build two, and one is dropped)."""
    base = api_base or stripe.DEFAULT_API_BASE
    return stripe.StripeClient(
        keypair.secret,
        stripe_version=API_VERSION,
        base_addresses={"api": base},
        max_network_retries=max_network_retries,
        http_client=Urllib3Client(
            timeout=timeout,
            api_base=base,
            # Its calls are paced, retried after a 429 and bounded (kassa.payments.guard).
            account=guard.account_of(keypair.secret, keypair.account),
        ),
    )


def _client(currency: str) -> stripe.StripeClient:
    # Keyed by the settings too, as they are read on every call: tests change them at run time.
    return _build_client(
        ensure_configured(currency),
        settings.STRIPE_API_BASE,
        int(settings.STRIPE_MAX_NETWORK_RETRIES),
        float(settings.STRIPE_TIMEOUT_SECONDS),
    )


def ensure_configured(currency: str) -> Keypair:
    """The currency's keypair, or PaymentsNotConfigured before anything is written."""
    keypair = keypair_for(currency)
    if keypair is None:
        raise PaymentsNotConfigured(_("Payments are not configured for this shop yet."))
    return keypair


def _call(label: str, request: Callable[[], _StripeObject], /) -> _StripeObject:
    """`request()`, one call to Stripe, with its failures turned into ours."""
    try:
        return metrics.stripe_call(label, request)
    except guard.Busy as exc:
        logger.warning("stripe %s not made: %s", label, exc)
        if exc.reason == "slow":
            message = _("The payment provider is taking too long to answer. Please try again.")
        else:
            message = _("Many customers are paying right now. Please try again in a moment.")
        raise PaymentProviderBusy(message, retry_after=exc.retry_after) from exc
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
        message = _(
            "The payment could not be started. The shop has been told; please try again later."
        )
        if status == 404 and exc.code == "resource_missing":
            raise StripeObjectMissing(message) from exc
        raise PaymentProviderRejected(message) from exc


def _create(label: str, request: Callable[[], stripe.StripeObject], /) -> dict[str, Any]:
    """A POST to Stripe, logged with Stripe's request id, as a plain dict."""
    created = _call(label, request)
    response = created.last_response
    logger.info(
        "stripe %s ok: id=%s stripe_request_id=%s",
        label,
        created["id"],
        response.request_id if response else "-",
    )
    return dict(created.to_dict())


def _retrieve(label: str, request: Callable[[], stripe.StripeObject], /) -> dict[str, Any]:
    """A GET from Stripe, as a plain dict."""
    return dict(_call(label, request).to_dict())


def _order_id(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    # A signed event's object is Stripe's, but its shape is checked all the same.
    return str(metadata.get("order_id") or "") if isinstance(metadata, dict) else ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _address(place: dict[str, Any]) -> dict[str, Any]:
    address = _dict(place.get("address"))
    return {
        "shipping_name": _text(place.get("name")),
        "line1": _text(address.get("line1")),
        "line2": _text(address.get("line2")),
        "postal_code": _text(address.get("postal_code")),
        "city": _text(address.get("city")),
        "state": _text(address.get("state")),
        "country": _text(address.get("country")),
    }


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _session_buyer(session: dict[str, Any]) -> Buyer:
    customer = _dict(session.get("customer_details"))
    shipping = _dict(_dict(session.get("collected_information")).get("shipping_details"))
    cost = _dict(session.get("shipping_cost"))
    rate = cost.get("shipping_rate")
    return Buyer(
        email=_text(customer.get("email")),
        name=_text(customer.get("name")),
        phone=_text(customer.get("phone")),
        **(_address(shipping) if shipping else {}),
        shipping_rate=_text(rate) or _text(_dict(rate).get("id")),
        shipping_amount=int(cost.get("amount_total") or 0),
    )


def _digits(value: object) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() and len(text) < 16 else None


def _intent_buyer(intent: dict[str, Any]) -> Buyer:
    """Who paid through our own page: the e-mail, address and shipping choice the shop sent
    with the PaymentIntent (kassa.payments.intent_details), server-side."""
    shipping = _dict(intent.get("shipping"))
    metadata = _dict(intent.get("metadata"))
    return Buyer(
        email=_text(intent.get("receipt_email")),
        name=_text(shipping.get("name")) or _text(metadata.get("customer_name")),
        phone=_text(shipping.get("phone")) or _text(metadata.get("customer_phone")),
        **(_address(shipping) if shipping else {}),
        shipping_rate="",
        shipping_amount=_digits(metadata.get("shipping_amount")) or 0,
        shipping_rate_id=_digits(metadata.get("shipping_rate_id")),
        shipping_method=_text(metadata.get("shipping_method")),
    )


def _checkout_session(session: dict[str, Any]) -> CheckoutSession:
    payment_intent = session.get("payment_intent") or ""
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id") or ""
    return CheckoutSession(
        id=str(session.get("id") or ""),
        url=session.get("url") or "",
        status=session.get("status") or "",
        payment_status=session.get("payment_status") or "",
        amount_total=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or "").lower(),
        payment_intent=str(payment_intent),
        order_id=_order_id(session),
        client_reference_id=str(session.get("client_reference_id") or ""),
        amount_shipping=int(_dict(session.get("total_details")).get("amount_shipping") or 0),
        buyer=_session_buyer(session),
    )


def checkout_session_from_event(data: dict[str, Any]) -> CheckoutSession:
    return _checkout_session(data)


def _payment_intent(intent: dict[str, Any]) -> PaymentIntent:
    return PaymentIntent(
        id=str(intent.get("id") or ""),
        status=intent.get("status") or "",
        amount=int(intent.get("amount") or 0),
        amount_received=int(intent.get("amount_received") or 0),
        currency=str(intent.get("currency") or "").lower(),
        client_secret=intent.get("client_secret") or "",
        order_id=_order_id(intent),
        buyer=_intent_buyer(intent),
    )


def payment_intent_from_event(data: dict[str, Any]) -> PaymentIntent:
    return _payment_intent(data)


def create_checkout_session(
    *, currency: str, params: SessionCreateParams, idempotency_key: str
) -> CheckoutSession:
    client = _client(currency)
    # The spec's stripe.checkout.Session.create: the client's sessions.create is the same
    # endpoint (POST /v1/checkout/sessions) with the same parameters, the secret key and the
    # API version coming from the client instead of from each call.
    session = _create(
        "checkout.Session.create",
        lambda: client.v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        ),
    )
    return _checkout_session(session)


def create_coupon(*, currency: str, params: CouponCreateParams, idempotency_key: str) -> str:
    client = _client(currency)
    coupon = _create(
        "Coupon.create",
        lambda: client.v1.coupons.create(
            params=params, options={"idempotency_key": idempotency_key}
        ),
    )
    return str(coupon["id"])


def create_shipping_rate(
    *, currency: str, params: ShippingRateCreateParams, idempotency_key: str
) -> str:
    client = _client(currency)
    rate = _create(
        "ShippingRate.create",
        lambda: client.v1.shipping_rates.create(
            params=params, options={"idempotency_key": idempotency_key}
        ),
    )
    return str(rate["id"])


def create_tax_rate(*, currency: str, params: TaxRateCreateParams, idempotency_key: str) -> str:
    client = _client(currency)
    tax_rate = _create(
        "TaxRate.create",
        lambda: client.v1.tax_rates.create(
            params=params, options={"idempotency_key": idempotency_key}
        ),
    )
    return str(tax_rate["id"])


def retrieve_checkout_session(*, currency: str, session_id: str) -> CheckoutSession:
    client = _client(currency)
    return _checkout_session(
        _retrieve(
            "checkout.Session.retrieve", lambda: client.v1.checkout.sessions.retrieve(session_id)
        )
    )


def checkout_session_paid_by(*, currency: str, payment_intent_id: str) -> CheckoutSession | None:
    """The Checkout Session whose payment is `payment_intent_id`, if one made it."""
    client = _client(currency)
    found = _call(
        "checkout.Session.list",
        lambda: client.v1.checkout.sessions.list(
            params={"payment_intent": payment_intent_id, "limit": 1}
        ),
    )
    sessions = [_checkout_session(session.to_dict()) for session in found.data]
    return sessions[0] if sessions else None


@dataclass(frozen=True)
class SessionPage:
    sessions: list[CheckoutSession]
    has_more: bool


def checkout_sessions_created(
    *, currency: str, since: int, until: int, starting_after: str = ""
) -> SessionPage:
    """One page (newest first) of the Checkout Sessions made in the currency's account between
    `since` and `until` (Unix seconds, inclusive); `starting_after` the last one of the page
    before."""
    client = _client(currency)
    params: SessionListParams = {"created": {"gte": since, "lte": until}, "limit": 100}
    if starting_after:
        params["starting_after"] = starting_after
    found = _call("checkout.Session.list", lambda: client.v1.checkout.sessions.list(params=params))
    return SessionPage(
        sessions=[_checkout_session(session.to_dict()) for session in found.data],
        has_more=bool(found.has_more),
    )


def expire_checkout_session(*, currency: str, session_id: str) -> CheckoutSession:
    client = _client(currency)
    session = _create(
        "checkout.Session.expire",
        lambda: client.v1.checkout.sessions.expire(
            session_id, options={"idempotency_key": f"kassa-expire-{session_id}"}
        ),
    )
    return _checkout_session(session)


def create_payment_intent(
    *, currency: str, params: PaymentIntentCreateParams, idempotency_key: str
) -> PaymentIntent:
    client = _client(currency)
    intent = _create(
        "PaymentIntent.create",
        lambda: client.v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key}
        ),
    )
    return _payment_intent(intent)


def update_payment_intent(
    *,
    currency: str,
    payment_intent_id: str,
    params: PaymentIntentUpdateParams,
    idempotency_key: str = "",
) -> PaymentIntent:
    """Change what the intent asks before it is confirmed. Without a key, stripe-python makes
    one per call for its retries: setting the same values again is harmless, and a key of ours
    reused for other values would replay the old answer."""
    client = _client(currency)
    options: RequestOptions = {"idempotency_key": idempotency_key} if idempotency_key else {}
    intent = _create(
        "PaymentIntent.modify",
        lambda: client.v1.payment_intents.update(payment_intent_id, params=params, options=options),
    )
    return _payment_intent(intent)


def retrieve_payment_intent(*, currency: str, payment_intent_id: str) -> PaymentIntent:
    client = _client(currency)
    return _payment_intent(
        _retrieve(
            "PaymentIntent.retrieve", lambda: client.v1.payment_intents.retrieve(payment_intent_id)
        )
    )


def cancel_payment_intent(*, currency: str, payment_intent_id: str) -> PaymentIntent:
    client = _client(currency)
    intent = _create(
        "PaymentIntent.cancel",
        lambda: client.v1.payment_intents.cancel(
            payment_intent_id, options={"idempotency_key": f"kassa-cancel-{payment_intent_id}"}
        ),
    )
    return _payment_intent(intent)


def create_refund(
    *, currency: str, payment_intent_id: str, idempotency_key: str, amount: int | None = None
) -> Refund:
    """A refund of the payment: of `amount` (minor units), or of all that is left without it.
    A repeated key returns the same refund, never a second."""
    client = _client(currency)
    params: RefundCreateParams = {"payment_intent": payment_intent_id}
    if amount is not None:
        params["amount"] = amount
    refund = _create(
        "Refund.create",
        lambda: client.v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}
        ),
    )
    return Refund(id=refund["id"], status=refund.get("status") or "", amount=int(refund["amount"]))


class InvalidWebhook(Exception):
    """A webhook whose signature is missing, forged or too old."""


# How far ahead of our clock a signature's time may be: Stripe's tolerance for old ones, the
# other way. A signature from the future is a replay prepared in advance or a broken clock.
WEBHOOK_TOLERANCE_SECONDS = 300
# A Stripe id as Stripe writes them; anything else is not an event of Stripe's.
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]{1,255}")


def verify_webhook(*, payload: bytes, signature: str, secrets: list[str]) -> dict[str, Any]:
    """The event, if `signature` proves one of our webhook secrets signed `payload` recently
    (neither more than five minutes old nor more than five minutes ahead of our clock), and the
    payload is an event with an id and a type as Stripe writes them."""
    if not signature:
        raise InvalidWebhook("No Stripe-Signature header.")
    if _signed_at(signature) > time.time() + WEBHOOK_TOLERANCE_SECONDS:
        raise InvalidWebhook("The signature is dated in the future.")
    if b"\\u0000" in payload:
        # No event of Stripe's carries a NUL, and PostgreSQL cannot store one in the record.
        raise InvalidWebhook("The payload carries a NUL character.")
    for secret in secrets:
        try:
            # Offline: checks the HMAC and parses the payload, no call to Stripe and no client.
            event = stripe.Webhook.construct_event(
                payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            continue
        except (ValueError, RecursionError) as exc:
            # RecursionError: JSON nested deeper than the parser goes.
            raise InvalidWebhook("The payload is not JSON an event can be read from.") from exc
        return _well_formed(dict(event.to_dict()))
    raise InvalidWebhook("The signature does not match any webhook secret, or is too old.")


def _signed_at(signature: str) -> float:
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            return float(value)
    return 0.0  # no time given: construct_event refuses it


def _well_formed(event: dict[str, Any]) -> dict[str, Any]:
    """Signed by us is not the same as readable: an event must have Stripe's shape to be stored."""
    event_id, type_ = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not _STRIPE_ID.fullmatch(event_id):
        raise InvalidWebhook("The event has no id of Stripe's form.")
    if not isinstance(type_, str) or not re.fullmatch(r"[a-z0-9_.]{1,100}", type_):
        raise InvalidWebhook("The event has no type of Stripe's form.")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object", {}), dict):
        raise InvalidWebhook("The event carries no object.")
    return event


def is_stripe_id(value: str) -> bool:
    """Whether `value` could be an id Stripe made (what a return URL or a form may carry)."""
    return bool(_STRIPE_ID.fullmatch(value))
