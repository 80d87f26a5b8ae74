"""One `stripe.StripeClient` per keypair, and the one place stripe-python's exceptions become ours.

Each client is built once with the pinned API version, the timeout, the retries and the HTTP
client (kassa.stripe_api.http, whose sends are paced and bounded); every call goes through `call`,
which turns stripe-python's failures into kassa.stripe_api.errors.
"""

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.utils.translation import gettext as _

from kassa.common.installation import installation_id
from kassa.metrics import instruments as metrics
from kassa.stripe_api.errors import (
    PaymentProviderBusy,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
    StripeObjectMissing,
)
from kassa.stripe_api.http import Urllib3Client
from kassa.stripe_api.keys import Keypair, keypair_for
from kassa.stripe_api.sending import Busy, account_of

logger = logging.getLogger(__name__)

# The API version stripe==16.1.0 is built for. Upgrading the library means reading Stripe's
# changelog between the two versions, then changing both together.
API_VERSION = "2026-10-28.endive"

# The one stripe-python global the shop sets, once, on import: StripeClient has no setting for
# telemetry, which would send each call's predecessor's timing to Stripe, put the platform string
# in every call's headers, and on the first call write an id file under $HOME/.config/stripe.
stripe.enable_telemetry = False

_StripeObject = TypeVar("_StripeObject", bound=stripe.StripeObject)


@functools.lru_cache(maxsize=64)
def build_client(
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
            # Its calls are paced, retried after a 429 and bounded (kassa.stripe_api.sending).
            account=account_of(keypair.secret, keypair.account),
        ),
    )


def client_for(currency: str) -> stripe.StripeClient:
    """The client of the account `currency` is paid into."""
    # Keyed by the settings too, as they are read on every call: tests change them at run time.
    return build_client(
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


def keyed(idempotency_key: str) -> stripe.RequestOptions:
    """The options of a POST sent under `idempotency_key`, made this installation's own: a key
    built from database ids alone (an order's number, an attempt's) would be sent again by
    another database of the shop on the same Stripe account (a reset, staging beside
    development, a restore), and Stripe would refuse it for its other parameters for 24 hours.
    The same for every retry of one request."""
    return {"idempotency_key": f"{installation_id()}-{idempotency_key}"}


def longest_call() -> timedelta:
    """How long the shop can wait on one Stripe call, retries included, and a margin: an object
    whose answer has not come by then never will."""
    calls = int(settings.STRIPE_MAX_NETWORK_RETRIES) + 1
    return timedelta(seconds=float(settings.STRIPE_TIMEOUT_SECONDS) * calls + 60)


def call(label: str, request: Callable[[], _StripeObject], /) -> _StripeObject:
    """`request()`, one call to Stripe, with its failures turned into ours."""
    try:
        return metrics.stripe_call(label, request)
    except Busy as exc:
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


def create(label: str, request: Callable[[], stripe.StripeObject], /) -> dict[str, Any]:
    """A POST to Stripe, logged with Stripe's request id, as a plain dict."""
    created = call(label, request)
    response = created.last_response
    logger.info(
        "stripe %s ok: id=%s stripe_request_id=%s",
        label,
        created["id"],
        response.request_id if response else "-",
    )
    return dict(created.to_dict())


def retrieve(label: str, request: Callable[[], stripe.StripeObject], /) -> dict[str, Any]:
    """A GET from Stripe, as a plain dict."""
    return dict(call(label, request).to_dict())
