"""What the shop may tell a customer or staff member went wrong.

A `ShopError`'s message is safe to show as it is. Each error is of one kind below; the kinds say
what happened, not how to answer it: kassa.common.http maps them to HTTP, in one place. An app's
errors subclass a kind and the app's own base (`class OrderNotEditable(Conflict, OrderError)`),
the kind first, so the kind is what the mapping finds. Each error class names a stable `code`
for machines (the API's `{"error", "code"}`); an app's error names its own, more precise one.
"""

from django_stubs_ext import StrOrPromise


class ShopError(Exception):
    code = "error"
    # Seconds after which trying again may succeed (the answer's Retry-After), if the error says.
    retry_after: int | None = None

    def __init__(self, message: StrOrPromise) -> None:
        super().__init__(message)
        self.message = str(message)


class Invalid(ShopError):
    """What was sent cannot be used: a quantity that is no whole number, an unknown code."""

    code = "invalid"


class NotFound(ShopError):
    """What was asked for does not exist, or is not the asker's to see."""

    code = "not_found"


class NotSignedIn(ShopError):
    """Only a signed-in customer may ask this."""

    code = "not_signed_in"


class Conflict(ShopError):
    """The request is fine, but the state of things does not allow it now."""

    code = "conflict"


class ProviderRejected(ShopError):
    """A provider the shop relies on (Stripe) refused what the shop asked of it."""

    code = "provider_rejected"


class Unavailable(ShopError):
    """The shop cannot do it right now: a provider is down, or it is not set up for it."""

    code = "unavailable"


class TooMany(ShopError):
    """The asker has done this too often just now; `retry_after` says in how many seconds they
    may try again."""

    code = "too_many_requests"

    def __init__(self, message: StrOrPromise, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
