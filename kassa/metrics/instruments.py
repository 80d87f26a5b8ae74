"""Every metric of the shop, and the one function each place that counts calls.

Labels take only values from small fixed sets (currencies the shop has keys for, our endpoint
labels, URL names, Stripe's event types we handle): a label made from a path, an id or a
customer's input would grow without bound and take the metrics server down with it.

Under gunicorn every worker process writes its values to files in PROMETHEUS_MULTIPROC_DIR
(config/gunicorn.py sets it up) and /metrics sums them (kassa.metrics.exposition).
"""

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import transaction
from prometheus_client import Counter, Histogram

T = TypeVar("T")

# --- Checkouts --------------------------------------------------------------------------------
CHECKOUTS_STARTED = Counter(
    "kassa_checkouts_started",
    "Checkout Sessions and PaymentIntents made at Stripe and handed to a customer.",
    ["currency", "kind"],
)
CHECKOUTS_FAILED = Counter(
    "kassa_checkouts_failed",
    "Payments that could not be started, by the error the customer was answered.",
    ["currency", "kind", "error"],
)
CHECKOUTS_PAID = Counter(
    "kassa_checkouts_paid",
    "Orders marked paid (once each, whichever report of Stripe's arrived first).",
    ["currency", "kind"],
)


def checkout_started(*, currency: str, kind: str) -> None:
    CHECKOUTS_STARTED.labels(currency=currency.lower(), kind=kind).inc()


def checkout_failed(*, currency: str, kind: str, error: Exception) -> None:
    # The error's class is one of kassa.payments.errors': a fixed set.
    CHECKOUTS_FAILED.labels(currency=currency.lower(), kind=kind, error=type(error).__name__).inc()


def checkout_paid(*, currency: str, kind: str) -> None:
    """Counted when the transaction that marked the order paid commits (a rollback counts
    nothing)."""
    counter = CHECKOUTS_PAID.labels(currency=currency.lower(), kind=kind)
    transaction.on_commit(counter.inc)


# --- Stripe's API -----------------------------------------------------------------------------
_STRIPE_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
STRIPE_CALLS = Counter(
    "kassa_stripe_calls",
    "Calls to Stripe's API by endpoint and outcome (with stripe-python's own retries inside).",
    ["endpoint", "outcome"],
)
STRIPE_CALL_SECONDS = Histogram(
    "kassa_stripe_call_duration_seconds",
    "How long a call to Stripe's API took, retries included.",
    ["endpoint"],
    buckets=_STRIPE_SECONDS,
)
STRIPE_RATE_LIMITED = Counter(
    "kassa_stripe_rate_limited",
    "429 answers from Stripe (each one, retried or not).",
    ["endpoint"],
)
STRIPE_LIMITER_WAIT_SECONDS = Histogram(
    "kassa_stripe_limiter_wait_seconds",
    "How long a call waited for its turn under the shop's own pace for a Stripe account.",
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)


def stripe_outcome(error: BaseException | None) -> str:
    """What became of a call, from the error stripe-python raised (read by its attributes:
    only kassa.payments imports stripe)."""
    if error is None:
        return "ok"
    if not hasattr(error, "http_status"):
        return "error"  # not one of stripe-python's
    status = getattr(error, "http_status", None) or 0
    if status == 0:
        return "unreachable"  # no answer: refused, dropped, timed out
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return "rejected"


# The endpoint of the Stripe call under way in this thread: the pacer below the gateway sees
# each 429 but not which call it answered.
_ENDPOINT: ContextVar[str] = ContextVar("stripe_endpoint", default="unknown")


def stripe_call(endpoint: str, request: Callable[[], T], /) -> T:
    """`request()`, one call to Stripe, counted and timed under `endpoint` (the gateway's label
    for it, e.g. "checkout.Session.create")."""
    started = time.perf_counter()
    error: BaseException | None = None
    token = _ENDPOINT.set(endpoint)
    try:
        return request()
    except BaseException as exc:
        error = exc
        raise
    finally:
        _ENDPOINT.reset(token)
        STRIPE_CALL_SECONDS.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        STRIPE_CALLS.labels(endpoint=endpoint, outcome=stripe_outcome(error)).inc()


def stripe_rate_limited(*, endpoint: str | None = None) -> None:
    """Stripe answered 429 to a call to `endpoint` (default: the call under way)."""
    STRIPE_RATE_LIMITED.labels(endpoint=endpoint or _ENDPOINT.get()).inc()


def stripe_limiter_waited(seconds: float) -> None:
    """A call waited `seconds` for its turn under the account's pace (0 when it went at once)."""
    STRIPE_LIMITER_WAIT_SECONDS.observe(max(seconds, 0.0))


# --- Webhooks ---------------------------------------------------------------------------------
WEBHOOK_EVENTS = Counter(
    "kassa_webhook_events",
    "Stripe events received, by type and outcome (processed, ignored, failed, duplicate, invalid).",
    ["type", "outcome"],
)
WEBHOOK_LAG_SECONDS = Histogram(
    "kassa_webhook_lag_seconds",
    "From Stripe creating an event to the shop handling it (Stripe retries for up to 3 days).",
    ["type"],
    buckets=(1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 72 * 3600),
)


def webhook_event(*, type_: str, outcome: str, created: Any = None) -> None:
    """An event of `type_` (a type the shop handles, or "other") ended as `outcome`; `created`
    (Stripe's Unix time of the event) gives its lag, for a first handling."""
    WEBHOOK_EVENTS.labels(type=type_, outcome=outcome).inc()
    if isinstance(created, int | float) and not isinstance(created, bool) and created > 0:
        WEBHOOK_LAG_SECONDS.labels(type=type_).observe(max(time.time() - created, 0.0))


# --- E-mails and stock: objects for the queue and the reservations, wired where they are built -
EMAILS = Counter(
    "kassa_emails",
    "E-mails by kind (the message's template) and what became of them: queued, sent, failed "
    "(each attempt the mail server refused or could not be reached for; it is retried).",
    ["kind", "outcome"],
)


def email_queued(*, kind: str) -> None:
    EMAILS.labels(kind=kind, outcome="queued").inc()


def email_sent(*, kind: str) -> None:
    EMAILS.labels(kind=kind, outcome="sent").inc()


def email_failed(*, kind: str) -> None:
    EMAILS.labels(kind=kind, outcome="failed").inc()


STOCK_RESERVATIONS = Counter(
    "kassa_stock_reservations",
    "Stock reservations by what became of them: taken (a payment began), released (expired, "
    "cancelled, failed), sold (paid).",
    ["event"],
)
STOCK_RESERVED_UNITS = Counter(
    "kassa_stock_reserved_units",
    "Units of stock in those reservations, by the same events.",
    ["event"],
)


def _reservation(event: str, units: int) -> None:
    STOCK_RESERVATIONS.labels(event=event).inc()
    STOCK_RESERVED_UNITS.labels(event=event).inc(max(units, 0))


def reservation_taken(*, units: int) -> None:
    _reservation("taken", units)


def reservation_released(*, units: int) -> None:
    _reservation("released", units)


def reservation_sold(*, units: int) -> None:
    _reservation("sold", units)


# --- Requests ---------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "kassa_http_requests",
    "Requests answered, by view (its URL name), method and status.",
    ["view", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "kassa_http_request_duration_seconds",
    "How long the app took to answer a request, by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def request_answered(*, view: str, method: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    HTTP_REQUESTS.labels(view=view, method=method, status=str(status)).inc()
    HTTP_REQUEST_SECONDS.labels(view=view, method=method).observe(seconds)
