"""Demo payments on, as `make run` has them without keys: the shop's Stripe client talks to
the stand-in at the live server's address, and the stand-in's webhooks go back there."""

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

DEMO_WEBHOOK_SECRET = "whsec_demo_tests"


@pytest.fixture
def demo(live_server: LiveServer, settings: SettingsWrapper) -> str:
    settings.SHOP_DEMO_PAYMENTS = True
    settings.SHOP_DEMO_URL = live_server.url
    settings.STRIPE_API_KEY = "sk_test_demo_kassa"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_demo_kassa"
    settings.STRIPE_API_BASE = f"{live_server.url}/demo-stripe"
    settings.STRIPE_WEBHOOK_SECRET = DEMO_WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_SECRETS = [DEMO_WEBHOOK_SECRET]
    settings.ALLOWED_HOSTS = ["*"]
    return live_server.url
