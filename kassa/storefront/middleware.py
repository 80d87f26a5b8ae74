"""Middleware of the shop's web requests."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from kassa.common.identity import identity
from kassa.stripe_api.deadline import deadline


class StripeDeadlineMiddleware:
    """Each request's Stripe calls end within STRIPE_TOTAL_DEADLINE_SECONDS of its start, well
    under a reverse proxy's timeout: the customer gets the shop's answer, never the proxy's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with deadline(float(settings.STRIPE_TOTAL_DEADLINE_SECONDS)):
            return self.get_response(request)


class ShopLocaleMiddleware:
    """The page in a language the shop offers (the visitor's choice or their browser's if it
    is one, else the shop's first) and its times in the shop's time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        shop = identity()
        if translation.get_language() not in shop.languages and shop.languages:
            translation.activate(shop.languages[0])
            request.LANGUAGE_CODE = shop.languages[0]
        timezone.activate(shop.time_zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
