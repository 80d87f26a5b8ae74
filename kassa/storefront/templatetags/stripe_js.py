"""Template access to the publishable side of payments (never the secret key)."""

from django import template
from django.conf import settings
from django.templatetags.static import static

from kassa.stripe_api.keys import any_payable_account, keypair_for

register = template.Library()


@register.simple_tag
def stripe_publishable_key(currency: str) -> str:
    """The publishable key for `currency`, or "" when payments in it are not configured."""
    keypair = keypair_for(currency)
    return keypair.publishable if keypair and keypair.publishable else ""


@register.simple_tag
def stripe_js_url() -> str:
    if settings.SHOP_DEMO_PAYMENTS:
        # The stand-in for Stripe.js (kassa.demo_stripe), under its versioned static name.
        return static("kassa/demo-stripe.js")
    return str(settings.STRIPE_JS_URL)


@register.simple_tag
def stripe_any_publishable_key() -> bool:
    """Whether any currency can be paid from the page (so Stripe.js is worth loading)."""
    return any_payable_account()
