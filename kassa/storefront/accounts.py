"""The signed-in customer of a request: who they are, and signing them in on this browser
(the pages' and the API's sign-in end here)."""

from django.contrib.auth import login
from django.http import HttpRequest
from django.urls import reverse

from kassa.customers.models import Customer
from kassa.orders.cart_merge import cart_merge_at_sign_in
from kassa.orders.links import shop_url
from kassa.storefront.visitors import SESSION_KEY

# The address a code was asked for, between the two steps of signing in.
PENDING_EMAIL = "kassa_sign_in_email"
# Django's own login() works with any user once a backend is named; the customer proved their
# address with the code, which is the only "password" they have.
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def current_customer(request: HttpRequest) -> Customer | None:
    if not request.user.is_authenticated:
        return None
    return Customer.objects.filter(user_id=request.user.pk).first()


def sign_in_link(token: str) -> str:
    return shop_url(reverse("customers:link", args=[token]))


def complete_sign_in(request: HttpRequest, customer: Customer) -> None:
    """Sign the customer in on this browser: a new session key (Django's login), the visitor's
    token kept, and this browser's cart merged with the account's."""
    token = request.session.get(SESSION_KEY, "")
    login(request, customer.user, backend=_BACKEND)
    if token:
        request.session[SESSION_KEY] = token  # a session of another user was flushed by login
    request.session.pop(PENDING_EMAIL, None)
    cart_merge_at_sign_in(visitor_token=token, user_id=customer.user_id)
