"""POST /stripe/webhook/: Stripe's events, verified, recorded once, then handled."""

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from kassa.common.http import json_endpoint, json_error
from kassa.metrics import instruments as metrics
from kassa.payments import webhooks
from kassa.payments.models import WebhookEvent
from kassa.stripe_api.webhooks import InvalidWebhook, verify_webhook

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe has no CSRF token to send: the signature check below authenticates it
@json_endpoint("POST")
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """POST /stripe/webhook/: a signed Stripe event, handled once however often it arrives."""
    secrets = settings.STRIPE_WEBHOOK_SECRETS
    if not secrets:
        logger.error("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set")
    try:
        event = verify_webhook(
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
            secrets=secrets,
        )
    except InvalidWebhook as exc:
        logger.warning("rejected a Stripe webhook: %s", exc)
        metrics.webhook_event(type_="unknown", outcome="invalid")
        return json_error(str(exc), code="invalid_webhook", status=400)
    received = webhooks.receive(event)
    record = received.record
    if record.outcome == WebhookEvent.Outcome.FAILED:
        # Stripe retries a non-2xx delivery; the error is kept on the record for staff.
        return json_error(
            "The event could not be handled; it will be retried.", code="webhook_failed", status=500
        )
    # A replayed event id says so: it was handled before and nothing was done again.
    outcome = "duplicate" if received.duplicate else str(record.outcome)
    return JsonResponse({"received": True, "outcome": outcome})
