"""Kassa settings: one file, driven by environment variables (and `.env` when present)."""

import hashlib
import ipaddress
import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import django_stubs_ext
import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.media import media_storage

# Lets `admin.ModelAdmin[Item]` and friends be subscripted at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Values already in the environment win over `.env` (read_env never overwrites).
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment or in .env "
            "(`make run` generates a local one for you)."
        )
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 - only ever used with DEBUG on
# Old keys still accepted for what they signed while a new one takes over (docs/operations.md).
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before the admin, as it asks: its admin classes patch the forms of translated fields.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",  # /sitemap.xml's template (kassa/storefront/views/seo.py)
    "kassa.common",
    "kassa.catalog",
    "kassa.orders",
    "kassa.payments",
    "kassa.storefront",
    "kassa.api",
    "ninja",  # its static files: Swagger UI for /api/v1/docs, served by WhiteNoise
    "kassa.backoffice",
    "axes",  # the admin's lockout after repeated failed logins (kassa/common/lockout.py)
    "kassa.notifications",
    "kassa.invoices",
    "kassa.customers",
    "kassa.demo_stripe",
    "django_tasks",
    "django_tasks_db",
    "kassa.integrations",
    "kassa.giftcards",
]

MIDDLEWARE = [
    # First, so every log line of a request (even the security middleware's) carries its id.
    "kassa.common.request_id.RequestIdMiddleware",
    # Next, so it times and counts every request, and answers /metrics before host checks.
    "kassa.metrics.middleware.MetricsMiddleware",
    # Before anything reads a body: a form in a charset Django refuses on every read is a 400
    # here, not a traceback from the CSRF check and then from each error page.
    "kassa.common.charset.RequestCharsetMiddleware",
    # Every Stripe call a request makes ends by its deadline (STRIPE_TOTAL_DEADLINE_SECONDS).
    "kassa.storefront.middleware.StripeDeadlineMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the visitor's choice (cookie), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    # Then the owner's choices: only the languages the shop offers, the shop's time zone.
    "kassa.storefront.middleware.ShopLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before messages, so it sees every change of the session the response makes.
    "kassa.storefront.personal.PersonalHeaderMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a login refused for a lockout with our page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kassa.storefront.context_processors.page_path",
                "kassa.storefront.context_processors.cart",
                "kassa.storefront.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# An empty DATABASE_URL (a copied .env.example) means the default, as an unset one does.
_DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(env.str("DATABASE_URL", "") or _DEFAULT_DATABASE_URL)}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, checking a kept connection without a round trip (kassa.common.postgresql).
    DATABASES["default"]["ENGINE"] = "kassa.common.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while a checkout is being written.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Catalog content (kassa/catalog/translation.py): a text missing in the page's language is shown
# in the shop's main language.
MODELTRANSLATION_DEFAULT_LANGUAGE = LANGUAGE_CODE
MODELTRANSLATION_FALLBACK_LANGUAGES = (LANGUAGE_CODE,)
# The default time zone (an IANA name, e.g. Europe/Berlin); the owner's "Shop settings" in the
# admin may choose another.
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# The catalog and item pages are rendered once per language and kept in each process's memory
# (kassa.storefront.shared_pages); an item edit shows on them within this many seconds
# (kassa.catalog.revision).
CATALOG_PAGE_REFRESH_SECONDS = env.float("CATALOG_PAGE_REFRESH_SECONDS", default=1.0)
# REDIS_URL: the cache every process and replica shares (the throttles' counts). Without it, a
# table in the database, which every process of the replica shares (kassa.common.cache): never
# one count per process, which would multiply each limit by the number of gunicorn's workers.
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {
            "BACKEND": "kassa.common.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            # Every call gives up after this long: the throttles run on every Buy click.
            "OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5},
        }
        if REDIS_URL
        else {
            "BACKEND": "kassa.common.cache.CountingDatabaseCache",
            "LOCATION": "kassa_cache",
            # Expired counts go once the table holds this many rows (Django culls on writes).
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    ),
    "pages": {
        "BACKEND": "kassa.common.cache.ProcessCache",
        "LOCATION": "kassa-pages",
        "TIMEOUT": 600,
        # At most 1000 copies per process (an item page is about 3 KB); the least recently
        # used go first.
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
    # Shared copies of search results (kassa.storefront.views.catalog): anyone can ask for new
    # ones, so they have a cache of their own, smaller, and cannot push the pages above out.
    "searches": {
        "BACKEND": "kassa.common.cache.ProcessCache",
        "LOCATION": "kassa-searches",
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": 300},
    },
}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (item images): on local disk under MEDIA_ROOT, served by the app
# (kassa.storefront.views.media), or in an S3-compatible bucket when MEDIA_STORAGE_URL / AWS_*
# say so (config/media.py), so several replicas share one set of images.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_STORAGE = media_storage(env.ENVIRON)
STORAGES = {
    "default": MEDIA_STORAGE.storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Database sessions without Django's "is this new key taken?" query (kassa/common/sessions.py).
SESSION_ENGINE = "kassa.common.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_HTTPS_PROXY", False) else None
)

# LOG_FORMAT=json: one JSON object per line (kassa.common.json_logs), for a log collector;
# gunicorn's own lines follow it (config/gunicorn.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="line").lower()
if LOG_FORMAT not in ("line", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be line or json.")
if LOG_FORMAT == "json":
    # Python's warnings too, which it would print to stderr as lines of plain text.
    logging.captureWarnings(True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "kassa.common.logs.RequestIdFilter"},
        "one_warning_line": {"()": "kassa.common.logs.OneWarningLine"},
    },
    "formatters": {
        "line": {
            "()": "kassa.common.logs.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s",
        },
        "json": {"()": "kassa.common.json_logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # stripe-python logs request URLs and bodies at debug level; keep it quiet.
        "stripe": {"level": "WARNING"},
        # A request Django refuses as suspicious (a Host the shop does not serve, a body past
        # its limits) is the client's doing: one warning line, not an ERROR with a traceback.
        **{
            f"django.security.{name}": {"filters": ["one_warning_line"]}
            for name in (
                "DisallowedHost",
                "RequestDataTooBig",
                "TooManyFieldsSent",
                "TooManyFilesSent",
                "SuspiciousMultipartForm",
            )
        },
    },
}

# --- Stripe -----------------------------------------------------------------------------------
# One keypair per currency: STRIPE_API_KEY_<CUR> / STRIPE_PUBLISHABLE_KEY_<CUR>, falling back to
# STRIPE_API_KEY / STRIPE_PUBLISHABLE_KEY. Collected here so nothing else reads os.environ.
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_KEYS_BY_CURRENCY: dict[str, dict[str, str]] = {}
for _name, _value in env.ENVIRON.items():
    for _prefix, _kind in (
        ("STRIPE_API_KEY_", "secret"),
        ("STRIPE_PUBLISHABLE_KEY_", "publishable"),
    ):
        if _name.startswith(_prefix) and _value:
            _currency = _name.removeprefix(_prefix).lower()
            STRIPE_KEYS_BY_CURRENCY.setdefault(_currency, {})[_kind] = _value
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Each account's webhook endpoint signs with its own secret: the default one, then
# STRIPE_WEBHOOK_SECRET_<CUR> for accounts of their own.
STRIPE_WEBHOOK_SECRETS = [STRIPE_WEBHOOK_SECRET] if STRIPE_WEBHOOK_SECRET else []
STRIPE_WEBHOOK_SECRETS += sorted(
    value
    for name, value in env.ENVIRON.items()
    if name.startswith("STRIPE_WEBHOOK_SECRET_") and value
)
# Empty means Stripe itself; set it to reach stripe-mock or the test suite's fake server.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Calls a second the shop makes to each Stripe account, counted by every process and replica
# together through Redis (REDIS_URL), else each process at its share (kassa.stripe_api.pacing).
# Unset: 80 for live keys, 20 for test keys (Stripe allows 100 and 25); 0: no pacing.
STRIPE_RATE_LIMIT = env.float("STRIPE_RATE_LIMIT", default=None)
# The longest a call waits for its turn and for retries of Stripe's 429s, together.
STRIPE_RATE_LIMIT_WAIT_SECONDS = env.float("STRIPE_RATE_LIMIT_WAIT_SECONDS", default=10.0)
# A request's Stripe calls end this long after it began, retries and waits included: well under
# a reverse proxy's usual 60 s, so the customer hears "try again" rather than a proxy's 504.
STRIPE_TOTAL_DEADLINE_SECONDS = env.float("STRIPE_TOTAL_DEADLINE_SECONDS", default=25.0)
# The app server's processes per replica and threads per process (config/gunicorn.py reads the
# same variables): without Redis each process paces at its share of STRIPE_RATE_LIMIT, and at
# most STRIPE_CONCURRENCY of a process's threads wait on Stripe at once, so pages keep some.
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=4)
STRIPE_CONCURRENCY = env.int(
    "STRIPE_CONCURRENCY", default=max(1, env.int("GUNICORN_THREADS", default=16) * 3 // 4)
)
# Where Stripe.js comes from; the item page falls back to the session URL if it lacks
# redirectToCheckout.
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")

# --- The shop's identity (kassa/common/identity.py) --------------------------------------------
# Shown in the storefront's header, titles and footer, in every mail and in the admin's header.
# Each is the default: the owner's "Shop settings" in the admin override them field by field.
SHOP_NAME = env.str("SHOP_NAME", default="Kassa")
SHOP_LOGO_URL = env.str("SHOP_LOGO_URL", default="")
SHOP_CONTACT_EMAIL = env.str("SHOP_CONTACT_EMAIL", default="")
SHOP_CONTACT_ADDRESS = env.str("SHOP_CONTACT_ADDRESS", default="").replace("\\n", "\n")
SHOP_FOOTER_TEXT = env.str("SHOP_FOOTER_TEXT", default="")
# The languages customers may choose (codes of LANGUAGES, comma-separated); empty: all of them.
SHOP_LANGUAGES = [code.strip() for code in env.list("SHOP_LANGUAGES", default=[]) if code.strip()]
if unknown := set(SHOP_LANGUAGES) - {code for code, _ in LANGUAGES}:
    raise ImproperlyConfigured(f"SHOP_LANGUAGES: no translation for {', '.join(sorted(unknown))}")

# --- Demo payments (kassa/demo_stripe) ---------------------------------------------------------
# With no Stripe secret key at all, the shop pays into a stand-in for Stripe that its own
# processes serve under /demo-stripe/: a Checkout page and a card form marked DEMO, answers to
# the shop's API calls as Stripe gives them, and signed webhook events delivered to
# /stripe/webhook/. The shop's code paths are the real ones (kassa.stripe_api over HTTP, the
# webhook's signature checked); only the far side is the stand-in. Never beside real keys, and
# `check --deploy` refuses it (kassa.demo_stripe.checks).
_ANY_STRIPE_SECRET = bool(
    STRIPE_API_KEY or any(keys.get("secret") for keys in STRIPE_KEYS_BY_CURRENCY.values())
)
SHOP_DEMO_PAYMENTS = env.bool("SHOP_DEMO_PAYMENTS", default=not _ANY_STRIPE_SECRET)
if SHOP_DEMO_PAYMENTS and _ANY_STRIPE_SECRET:
    raise ImproperlyConfigured(
        "SHOP_DEMO_PAYMENTS is on but Stripe keys are set: demo payments never run beside real "
        "keys. Remove SHOP_DEMO_PAYMENTS (or the keys)."
    )
# Where the shop's processes reach themselves: the stand-in's API base and the webhooks' target.
SHOP_DEMO_URL = env.str(
    "SHOP_DEMO_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"
)
if SHOP_DEMO_PAYMENTS:
    STRIPE_API_KEY = "sk_test_demo_kassa"
    STRIPE_PUBLISHABLE_KEY = "pk_test_demo_kassa"
    STRIPE_API_BASE = f"{SHOP_DEMO_URL.rstrip('/')}/demo-stripe"
    # Derived from the secret key, so every process and replica signs and checks alike.
    STRIPE_WEBHOOK_SECRET = (
        "whsec_demo_" + hashlib.sha256(f"kassa-demo:{SECRET_KEY}".encode()).hexdigest()[:32]
    )
    STRIPE_WEBHOOK_SECRETS = [STRIPE_WEBHOOK_SECRET]
    STRIPE_JS_URL = "/static/kassa/demo-stripe.js"

# --- Production hardening ---------------------------------------------------------------------
# DJANGO_HTTPS=true: the shop is only reached over HTTPS (TLS at a reverse proxy, with
# DJANGO_BEHIND_HTTPS_PROXY=true). Off by default so `make run` works on plain http://127.0.0.1.
HTTPS_ONLY = env.bool("DJANGO_HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS_ONLY
# The container's health probe talks plain HTTP to the app server, bypassing the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_HTTPONLY = True  # pages read the token from the form, never from the cookie
# A refused JSON request is told so in JSON; a page's form gets Django's page.
CSRF_FAILURE_VIEW = "kassa.storefront.errors.csrf_failure"
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
# HSTS preload is a promise about the whole domain, made by its owner on hstspreload.org; the
# shop offers it (DJANGO_HSTS_PRELOAD=true) but does not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Scripts only from the shop and Stripe.js, frames only from Stripe, no inline script or style.
_stripe_js = urlsplit(STRIPE_JS_URL)  # usually js.stripe.com; a stand-in's origin is allowed too
_SCRIPT_ORIGINS = [f"{_stripe_js.scheme}://{_stripe_js.netloc}"] if _stripe_js.netloc else []
_logo = urlsplit(SHOP_LOGO_URL)
_LOGO_ORIGINS = [f"{_logo.scheme}://{_logo.netloc}"] if _logo.netloc else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": list(dict.fromkeys([SELF, "https://js.stripe.com", *_SCRIPT_ORIGINS])),
        "frame-src": [
            "https://js.stripe.com",
            "https://hooks.stripe.com",
            "https://checkout.stripe.com",
        ],
        "connect-src": [SELF, "https://api.stripe.com"],
        # Item images from their bucket's origin when they live in one (config/media.py).
        "img-src": [
            SELF,
            "data:",
            "https://*.stripe.com",
            *MEDIA_STORAGE.origins,
            *_LOGO_ORIGINS,
        ],
        "style-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        # Chrome applies form-action to the redirect after a POST, e.g. into Stripe Checkout.
        "form-action": [SELF, "https://checkout.stripe.com"],
        "frame-ancestors": [NONE],
    }
}

# --- Abuse limits (kassa/common/throttle.py) ---------------------------------------------------
# Starting a payment writes an order, a session row and a Stripe object; a discount code can be
# guessed. Rates as "count/period" (s, m, h, d), per visitor and per client address; a flash
# sale's buyers come from many addresses, so the address rate is the looser one.
SHOP_THROTTLE = env.bool("SHOP_THROTTLE", default=True)
SHOP_THROTTLE_BUY_PER_VISITOR = env.str("SHOP_THROTTLE_BUY_PER_VISITOR", default="10/m")
SHOP_THROTTLE_BUY_PER_ADDRESS = env.str("SHOP_THROTTLE_BUY_PER_ADDRESS", default="60/m")
SHOP_THROTTLE_CODES_PER_VISITOR = env.str("SHOP_THROTTLE_CODES_PER_VISITOR", default="10/m")
# A guesser changes visitor (a new session is free) but not address so easily.
SHOP_THROTTLE_CODES_PER_ADDRESS = env.str("SHOP_THROTTLE_CODES_PER_ADDRESS", default="30/h")
# Searches are the catalog's one query a visitor writes; pages of the catalog are not limited.
SHOP_THROTTLE_SEARCH_PER_ADDRESS = env.str("SHOP_THROTTLE_SEARCH_PER_ADDRESS", default="60/m")
# Signing in by an e-mailed code (kassa/customers/sign_in.py): codes asked for per e-mail (no
# inbox is flooded), and codes asked for or typed per client address.
SHOP_THROTTLE_SIGN_IN_PER_EMAIL = env.str("SHOP_THROTTLE_SIGN_IN_PER_EMAIL", default="5/h")
SHOP_THROTTLE_SIGN_IN_PER_ADDRESS = env.str("SHOP_THROTTLE_SIGN_IN_PER_ADDRESS", default="30/h")
# The reverse proxies in front of the shop, by address or range ("10.0.0.0/8"): a request from
# one of them is from the address it names last in X-Forwarded-For, checked the same way, hop
# by hop. Empty: the connection's own address, whatever X-Forwarded-For says. Independent of
# DJANGO_BEHIND_HTTPS_PROXY, which is about the scheme.
try:
    SHOP_TRUSTED_PROXIES = [
        ipaddress.ip_network(entry.strip(), strict=False)
        for entry in env.list("SHOP_TRUSTED_PROXIES", default=[])
        if entry.strip()
    ]
except ValueError as _error:
    raise ImproperlyConfigured(f"SHOP_TRUSTED_PROXIES: {_error}") from None
# Should the cache (Redis) be down, customers are served unthrottled rather than all refused.
RATELIMIT_FAIL_OPEN = True

# --- The admin's login (django-axes) -----------------------------------------------------------
# After ADMIN_LOGIN_FAILURE_LIMIT failed logins of one user from one address, that user cannot
# log in from that address, even with the right password, for ADMIN_LOGIN_LOCKOUT_MINUTES (each
# further try starts the wait again). Counted per user *and* address, so someone guessing the
# admin's password from their own machine cannot lock the real admin out of theirs; the
# failures are rows in the database, shared by every replica, listed in the admin (staff can
# delete them to lift a lockout early, or run `manage.py axes_reset`).
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("ADMIN_LOGIN_LOCKOUT_MINUTES", default=15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No "AXES: BEGIN version ..." banner from every process and management command; lockouts and
# failed logins are still logged.
AXES_VERBOSE = False
# The address the throttles count too (the proxy's X-Forwarded-For entry behind it).
AXES_CLIENT_IP_CALLABLE = "kassa.common.throttle.client_address"
AXES_LOCKOUT_CALLABLE = "kassa.common.lockout.lockout_response"
if AXES_FAILURE_LIMIT < 1:
    raise ImproperlyConfigured("ADMIN_LOGIN_FAILURE_LIMIT must be at least 1.")

# --- Customer accounts and returns (kassa/customers) ------------------------------------------
# Days after payment, or after delivery when it was delivered, in which a customer can ask to
# return an order online.
SHOP_RETURN_DAYS = env.int("SHOP_RETURN_DAYS", default=30)
if SHOP_RETURN_DAYS < 0:
    raise ImproperlyConfigured("SHOP_RETURN_DAYS must be 0 or more.")

# --- Gift cards (kassa/giftcards) -------------------------------------------------------------
# Months a gift card can be used after it is issued; blank: it never expires (what many
# jurisdictions require of cards that were paid for).
SHOP_GIFT_CARD_MONTHS = (
    env.int("SHOP_GIFT_CARD_MONTHS", default=None)
    if env.str("SHOP_GIFT_CARD_MONTHS", default="").strip()
    else None
)
if SHOP_GIFT_CARD_MONTHS is not None and SHOP_GIFT_CARD_MONTHS < 1:
    raise ImproperlyConfigured("SHOP_GIFT_CARD_MONTHS must be blank or 1 or more.")

# --- Catalog ----------------------------------------------------------------------------------
# Items per catalog page (and per page of search results).
SHOP_PAGE_SIZE = env.int("SHOP_PAGE_SIZE", default=24)
if SHOP_PAGE_SIZE < 1:
    raise ImproperlyConfigured("SHOP_PAGE_SIZE must be at least 1.")
# Stock: "Only N left" shows below this many; a payment holds its units this many minutes
# (a Checkout Session's expires_at; a PaymentIntent is cancelled by reconciliation after it).
# Stripe lets a session live from 30 minutes to 24 hours.
SHOP_LOW_STOCK = env.int("SHOP_LOW_STOCK", default=5)
if SHOP_LOW_STOCK < 0:
    raise ImproperlyConfigured("SHOP_LOW_STOCK cannot be negative.")
CHECKOUT_RESERVATION_MINUTES = env.int("CHECKOUT_RESERVATION_MINUTES", default=30)
if not 30 <= CHECKOUT_RESERVATION_MINUTES <= 24 * 60:
    raise ImproperlyConfigured(
        "CHECKOUT_RESERVATION_MINUTES must be from 30 to 1440 (what Stripe allows a session)."
    )
# The largest item image staff may upload, in megabytes.
SHOP_MAX_IMAGE_MB = env.float("SHOP_MAX_IMAGE_MB", default=5.0)
# Where the internet reaches the shop (e.g. https://shop.example.com): Stripe Checkout shows
# item images it fetches from there. Empty: Checkout shows no images.
SHOP_PUBLIC_URL = env.str("SHOP_PUBLIC_URL", default="")
if SHOP_PUBLIC_URL and urlsplit(SHOP_PUBLIC_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured(
        "SHOP_PUBLIC_URL must be an http(s) address, e.g. https://shop.example.com"
    )

# --- Metrics (kassa/metrics/) -----------------------------------------------------------------
# /metrics answers only clients at these addresses or ranges ("10.0.0.0/8"), by the connection's
# own address, or with `Authorization: Bearer <METRICS_TOKEN>`; everyone else gets a 404.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
try:
    for _allowed in METRICS_ALLOWED_IPS:
        ipaddress.ip_network(_allowed.strip(), strict=False)
except ValueError as _error:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {_error}") from None
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# --- Fulfilment and mail (kassa/notifications) ------------------------------------------------
# Where an order's goods may be shipped: Checkout's address form offers these ISO countries.
SHOP_SHIPPING_COUNTRIES = [
    code.strip().upper()
    for code in env.list(
        "SHOP_SHIPPING_COUNTRIES",
        default=(
            "US CA GB IE DE FR NL BE LU AT CH IT ES PT SE NO DK FI PL CZ EE LV LT AU NZ JP"
        ).split(),
    )
    if code.strip()
]
if not all(len(code) == 2 and code.isalpha() for code in SHOP_SHIPPING_COUNTRIES):
    raise ImproperlyConfigured("SHOP_SHIPPING_COUNTRIES is a comma-separated list like US,DE,FR")
# Whether Checkout (and the card form) asks for the customer's phone number.
SHOP_COLLECT_PHONE = env.bool("SHOP_COLLECT_PHONE", default=False)
# The mail server in django-environ's scheme: smtp://user:pass@host:587 (STARTTLS),
# smtp+ssl://user:pass@host:465, consolemail:// (printed, `make run`'s default).
# smtp:// on port 587, the submission port, speaks STARTTLS (add ?email_use_tls=true for
# another port); a local relay on 25 or a test server stays plain.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS")) or (
    not EMAIL_USE_SSL and env.str("EMAIL_URL", "").startswith("smtp:") and EMAIL_PORT == 587
)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kassa <shop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Links in mail point at SHOP_PUBLIC_URL; without it, at the address `make run` serves.
SHOP_LOCAL_PORT = env.int("PORT", default=8000)
# Who gets the new-order notice (and other notices for staff), comma-separated.
SHOP_STAFF_EMAILS = env.list("SHOP_STAFF_EMAILS", default=[])
# The background worker that sends queued mail: Django's Tasks API, the database backend.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "mail", "webhooks"],
    }
}
# A refused or unreachable mail server is retried after 1, 2, 4, ... minutes (at most an hour
# apart), MAIL_MAX_ATTEMPTS times in all; then the mail waits for staff (the admin lists it).
MAIL_RETRY_BASE_SECONDS = env.float("MAIL_RETRY_BASE_SECONDS", default=60.0)
MAIL_RETRY_MAX_SECONDS = 3600.0
MAIL_MAX_ATTEMPTS = env.int("MAIL_MAX_ATTEMPTS", default=12)
# A mail being sent by a worker that stopped (killed) is sent again after this long.
MAIL_SEND_LEASE_SECONDS = env.float("MAIL_SEND_LEASE_SECONDS", default=300.0)


# --- The admin: refunds by staff ----------------------------------------------------------------
# SHOP_STAFF_REFUND_LIMIT caps one refund made by staff who lack the permission "Can refund any
# amount" (the Staff group; the Owner group has it), per currency: "50 USD, 45 EUR, 7000 JPY".
# A currency it does not name, or the setting left empty: no cap.
def _refund_limits(value: str) -> dict[str, str]:
    from decimal import Decimal, InvalidOperation

    limits: dict[str, str] = {}
    for part in filter(None, (piece.strip() for piece in value.split(","))):
        amount, _, currency = part.partition(" ")
        try:
            valid = Decimal(amount) >= 0 and len(currency.strip()) == 3
        except InvalidOperation:
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"SHOP_STAFF_REFUND_LIMIT: {part!r} is not an amount and a currency, e.g. 50 USD."
            )
        limits[currency.strip().lower()] = amount
    return limits


SHOP_STAFF_REFUND_LIMIT = _refund_limits(env.str("SHOP_STAFF_REFUND_LIMIT", default=""))
# --- Outgoing webhooks (kassa/integrations) ---------------------------------------------------
# Endpoints on private, loopback and link-local addresses, and plain http:// ones, are refused
# unless this is on (tests, local development; DEBUG allows http too).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
# One attempt (connect, send, the whole answer) ends after this long.
WEBHOOKS_TIMEOUT_SECONDS = env.float("WEBHOOKS_TIMEOUT_SECONDS", default=5.0)
# A failed delivery is tried again after 5 s, 5 min, 30 min, 2 h, 5 h, then every 10 h, until
# WEBHOOKS_GIVE_UP_SECONDS after its event; an endpoint whose every attempt failed that long
# is switched off and staff are told.
WEBHOOKS_RETRY_SECONDS = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0]
WEBHOOKS_GIVE_UP_SECONDS = 3 * 24 * 3600.0
# A delivery being sent by a worker that stopped (killed) is sent again after this long.
WEBHOOKS_DELIVERY_LEASE_SECONDS = env.float("WEBHOOKS_DELIVERY_LEASE_SECONDS", default=60.0)
# After a secret is rotated the previous one still signs for this long, beside the new one.
WEBHOOKS_SECRET_OVERLAP_HOURS = env.float("WEBHOOKS_SECRET_OVERLAP_HOURS", default=24.0)
# `manage.py clean_webhook_log` removes events older than this whose deliveries all ended.
WEBHOOKS_LOG_DAYS = env.int("WEBHOOKS_LOG_DAYS", default=30)
if WEBHOOKS_DELIVERY_LEASE_SECONDS <= WEBHOOKS_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "WEBHOOKS_DELIVERY_LEASE_SECONDS must be longer than WEBHOOKS_TIMEOUT_SECONDS."
    )
# --- Stripe's rules kept as the shop's: receipts and units held by unpaid payments -------------
# Who e-mails the buyer their receipt. Off (the default): the shop's own confirmation only; a
# card payment carries the buyer's e-mail in its metadata, not in `receipt_email`, which makes
# Stripe send its own receipt in live mode whatever the Dashboard says. On: `receipt_email` is
# set, and Stripe sends its receipt beside the shop's confirmation.
SHOP_STRIPE_RECEIPTS = env.bool("SHOP_STRIPE_RECEIPTS", default=False)
# The most units one visitor (a browser, or a signed-in account) and one client address (an
# IPv6 /64) may hold at once in payments not yet made; 0 means no limit. A Buy click holds its
# units for CHECKOUT_RESERVATION_MINUTES, so without a cap a script clicking Buy could keep a
# sale's whole stock off the shelf without paying.
SHOP_HOLD_LIMIT_VISITOR = env.int("SHOP_HOLD_LIMIT_VISITOR", default=20)
SHOP_HOLD_LIMIT_ADDRESS = env.int("SHOP_HOLD_LIMIT_ADDRESS", default=50)
# A Buy click with no visitor cookie answers the payment the same address started for the same
# item and quantity this many seconds before (a script's or a cookie-less browser's repeated
# clicks), rather than holding more units; 0 turns it off.
SHOP_BUY_AGAIN_SECONDS = env.int("SHOP_BUY_AGAIN_SECONDS", default=10)
# --- Tax, prices and invoices (kassa/orders/tax_mode.py, kassa/invoices) ----------------------
# Who works out tax: "manual" (the rates staff attach to orders, the default) or "stripe"
# (Stripe Tax: Checkout asks for the address it needs and computes tax per line and shipping).
SHOP_TAX = env.str("SHOP_TAX", default="manual").strip().lower()
if SHOP_TAX not in ("manual", "stripe"):
    raise ImproperlyConfigured("SHOP_TAX must be 'manual' or 'stripe'.")
# With Stripe Tax: the currencies whose prices already include tax (comma-separated, e.g.
# eur,jpy); prices in the others have tax added on top.
SHOP_PRICES_INCLUDE_TAX = sorted(
    {code.strip().lower() for code in env.list("SHOP_PRICES_INCLUDE_TAX", default=[]) if code}
)
# The Stripe product tax code of items that name none of their own (txcd_99999999: general
# tangible goods).
SHOP_DEFAULT_TAX_CODE = env.str("SHOP_DEFAULT_TAX_CODE", default="txcd_99999999").strip()
if not SHOP_DEFAULT_TAX_CODE.startswith("txcd_"):
    raise ImproperlyConfigured("SHOP_DEFAULT_TAX_CODE is a Stripe tax code, e.g. txcd_99999999")
# Checkout shows prices in the buyer's local currency (Stripe's Adaptive Pricing); the shop
# still settles and reports in its own currency.
SHOP_ADAPTIVE_PRICING = env.bool("SHOP_ADAPTIVE_PRICING", default=False)
# The seller on every invoice and credit note: legal name, postal address (lines separated by
# "\n" or ";") and tax id (VAT number, EIN, INN, ...). Unset, the name and address are the
# shop's own (kassa.common.identity: the admin's Shop settings, else SHOP_NAME).
SHOP_LEGAL_NAME = env.str("SHOP_LEGAL_NAME", default="").strip()
SHOP_LEGAL_ADDRESS = [
    line.strip()
    for line in env.str("SHOP_LEGAL_ADDRESS", default="")
    .replace("\\n", "\n")
    .replace(";", "\n")
    .split("\n")
    if line.strip()
]
SHOP_TAX_ID = env.str("SHOP_TAX_ID", default="").strip()
# A customer who agreed to hear from the shop and left Checkout unpaid gets one reminder this
# many seconds after the session expired (never if they paid meanwhile).
SHOP_RECOVERY_DELAY = env.int("SHOP_RECOVERY_DELAY", default=3600)
if SHOP_RECOVERY_DELAY < 0:
    raise ImproperlyConfigured("SHOP_RECOVERY_DELAY is a number of seconds, 0 or more.")
