"""The shop's pages Stripe sends a customer back to, as absolute addresses for this request."""

from django.http import HttpRequest
from django.urls import reverse

from kassa.payments.methods.base import ReturnPages


def return_pages(request: HttpRequest) -> ReturnPages:
    return ReturnPages(
        success=request.build_absolute_uri(reverse("payments:success")),
        cancel=request.build_absolute_uri(reverse("payments:cancel")),
    )
