"""Secrets and signatures by the Standard Webhooks spec (its own library signs): receivers check
them with any Standard Webhooks library, in any language."""

import base64
import secrets
from datetime import datetime

from django.utils import timezone
from standardwebhooks import Webhook

from kassa.integrations.models import WebhookEndpoint

PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, as the Standard Webhooks libraries read it."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    found = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > timezone.now():
        found.append(endpoint.previous_secret)
    return found


def headers(
    *, endpoint: WebhookEndpoint, message_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` (one `v1,…` per secret in
    use, space-separated: a receiver with either secret accepts it)."""
    signature = " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
        for secret in signing_secrets(endpoint)
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
