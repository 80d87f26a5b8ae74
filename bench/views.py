"""Yardsticks for the benchmark: what the same server does with (almost) no work of the shop's."""

import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse

from kassa.stripe_api import checkout_sessions


def trivial(request: HttpRequest) -> HttpResponse:
    """A page with no database and no template: the server's and Django's own cost."""
    return HttpResponse("ok", content_type="text/plain")


def stripe_call(request: HttpRequest) -> JsonResponse:
    """One Checkout Session create through the gateway and nothing else: no session, no order,
    no database. Its throughput is the ceiling for /buy on this machine."""
    session = checkout_sessions.create_session(
        currency="usd",
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 1234,
                        "product_data": {"name": "Bench"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "https://127.0.0.1/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://127.0.0.1/checkout/cancel/",
        },
        idempotency_key=f"kassa-bench-{uuid.uuid4().hex}",
    )
    return JsonResponse({"id": session.id, "url": session.url})
