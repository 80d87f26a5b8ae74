"""`manage.py check --deploy` refuses demo payments: a live shop must take real money."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def demo_payments_off(**kwargs: Any) -> list[Error]:
    if not settings.SHOP_DEMO_PAYMENTS:
        return []
    return [
        Error(
            "Demo payments are on: no Stripe secret key is set, so the shop pays into its own "
            "stand-in and no money moves.",
            hint="Set STRIPE_API_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET "
            "(docs/deploy.md).",
            id="kassa.E001",
        )
    ]
