"""Stripe's webhook signatures: whether a request body is an event Stripe signed for us."""

import re
import time
from typing import Any

import stripe

from kassa.stripe_api.client import API_VERSION
from kassa.stripe_api.results import is_stripe_id


class InvalidWebhook(Exception):
    """A webhook whose signature is missing, forged or too old."""


# How far ahead of our clock a signature's time may be: Stripe's tolerance for old ones, the
# other way. A signature from the future is a replay prepared in advance or a broken clock.
WEBHOOK_TOLERANCE_SECONDS = 300


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
        except (ValueError, RecursionError, AttributeError) as exc:
            # RecursionError: JSON nested deeper than the parser goes. AttributeError: JSON that
            # is not an object (a list, a string), which stripe-python reads as one.
            raise InvalidWebhook("The payload is not JSON an event can be read from.") from exc
        return _well_formed(dict(event.to_dict()))
    raise InvalidWebhook("The signature does not match any webhook secret, or is too old.")


# The oldest API version whose shapes kassa.stripe_api.results reads: a Checkout Session's buyer
# under `customer_details` came with it, and every move since is read in both places.
OLDEST_VERSION_READ = "2020-08-27"


def version_gap(event: dict[str, Any]) -> str:
    """What to tell the logs of an event rendered in another API version than the pinned one
    (Stripe renders an event in its webhook endpoint's version, not the client's); "" for one
    in the pinned version. An event older than the shapes the shop reads says so."""
    version = event.get("api_version")
    version = version if isinstance(version, str) else ""
    if version == API_VERSION:
        return ""
    if not version or version[:10] < OLDEST_VERSION_READ:
        return (
            f"is in API version {version or 'unknown'}, older than the shop reads "
            f"({OLDEST_VERSION_READ} on): its shipping address may be lost; set the webhook "
            f"endpoint's version to {API_VERSION}"
        )
    return (
        f"is in API version {version}, not the pinned {API_VERSION}: read in its own shape; "
        f"set the webhook endpoint's version to {API_VERSION}"
    )


def _signed_at(signature: str) -> float:
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            return float(value)
    return 0.0  # no time given: construct_event refuses it


def _well_formed(event: dict[str, Any]) -> dict[str, Any]:
    """Signed by us is not the same as readable: an event must have Stripe's shape to be stored."""
    event_id, type_ = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not is_stripe_id(event_id):
        raise InvalidWebhook("The event has no id of Stripe's form.")
    if not isinstance(type_, str) or not re.fullmatch(r"[a-z0-9_.]{1,100}", type_):
        raise InvalidWebhook("The event has no type of Stripe's form.")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object", {}), dict):
        raise InvalidWebhook("The event carries no object.")
    return event
