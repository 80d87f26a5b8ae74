"""Test settings: the real ones with a fixed key, fast hashing and no Stripe keys from the host."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests set keys and the fake server's address themselves; the host's .env must not leak in.
STRIPE_API_KEY = ""
STRIPE_PUBLISHABLE_KEY = ""
STRIPE_KEYS_BY_CURRENCY = {}
STRIPE_WEBHOOK_SECRET = ""
STRIPE_WEBHOOK_SECRETS = []
STRIPE_API_BASE = ""
STRIPE_JS_URL = "https://js.stripe.com/v3/"
# The demo stand-in only where a test turns it on (tests/demo_stripe/).
SHOP_DEMO_PAYMENTS = False
STRIPE_MAX_NETWORK_RETRIES = 2
STRIPE_TIMEOUT_SECONDS = 5.0
# Paced, but far above what a test makes; the pacing tests set their own rate. One process.
STRIPE_RATE_LIMIT = 10_000.0
WEB_CONCURRENCY = 1
# Every request reads the catalog revision: an item a test edits shows on its next request.
CATALOG_PAGE_REFRESH_SECONDS = 0.0
# Every test is one visitor at 127.0.0.1, many Buy clicks a minute: the throttle tests turn
# the limits on themselves.
SHOP_THROTTLE = False
# Tests log in with the test client, which authenticates without a request (django-axes needs
# one); the lockout's tests turn it on themselves.
AXES_ENABLED = False
