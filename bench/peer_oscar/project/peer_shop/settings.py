"""django-oscar set up as its documentation's "Building your own shop" page says, run as
production runs it: DEBUG off, PostgreSQL, a shared cache, behind an HTTPS proxy.

Where this differs from that page, and why (docs/performance.md lists these settings too):
- Search: Whoosh, as Oscar's sandbox and Oscar's own tests use. Haystack's simple backend, which
  the page offers for a start, finds no products for the catalogue's browse query, so the
  catalogue would list nothing.
- 24 products a page, as many as Kassa's catalog shows (Oscar's default is 20).
- The same two languages as Kassa, and prices in US dollars.
- The cache: Django's Redis cache on the bench's Redis (a database of its own), as Kassa shares
  the same Redis.

Everything else a run needs comes from the environment the bench gives it.
"""

import os
from urllib.parse import urlsplit

import oscar
from oscar.defaults import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1"]

INSTALLED_APPS = [*oscar.INSTALLED_APPS, "sorl.thumbnail"]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

ROOT_URLCONF = "peer_shop.urls"
WSGI_APPLICATION = "peer_shop.wsgi.application"

# No loaders named: with DEBUG off Django keeps every template compiled (its cached loader).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.media",
                "django.template.context_processors.static",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
]

_database = urlsplit(os.environ["OSCAR_DATABASE_URL"])
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _database.path.lstrip("/"),
        "HOST": _database.hostname or "",
        "PORT": str(_database.port or ""),
        "USER": _database.username or "",
        "PASSWORD": _database.password or "",
        # As the page recommends; kept connections and their check as Kassa has them.
        "ATOMIC_REQUESTS": True,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# Without a Redis (none installed) each process keeps its own, as Kassa's bench falls back too.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["OSCAR_REDIS_URL"],
        }
        if os.environ.get("OSCAR_REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": os.environ["OSCAR_WHOOSH_PATH"],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATIC_ROOT = os.environ["OSCAR_STATIC_ROOT"]
MEDIA_URL = "/media/"
MEDIA_ROOT = os.environ["OSCAR_MEDIA_ROOT"]

# Behind the TLS proxy, HTTPS only, as Kassa's production settings (wrk sends the header).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
OSCAR_BASKET_COOKIE_SECURE = True
OSCAR_RECENTLY_VIEWED_COOKIE_SECURE = True

OSCAR_DEFAULT_CURRENCY = "USD"
OSCAR_PRODUCTS_PER_PAGE = 24
THUMBNAIL_DEBUG = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
