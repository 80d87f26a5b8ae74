"""The payment domain's own refusals. Stripe's failures are kassa.stripe_api.errors; both are
PaymentErrors."""

from kassa.common.errors import Conflict, Invalid
from kassa.stripe_api.errors import PaymentError


class CheckoutConflict(Conflict, PaymentError):
    """The order's state does not allow this checkout (paid already, or superseded)."""

    code = "checkout_conflict"


class CheckoutSuperseded(CheckoutConflict):
    """A newer checkout attempt for the same order started while this one was being made."""

    code = "checkout_superseded"


class RefundFailed(Conflict, PaymentError):
    """A refund was refused: the order is not paid, already refunded, or Stripe said no."""

    code = "refund_failed"


class EmailRequired(Invalid, PaymentError):
    """Gift cards pay the whole order, so no Stripe page asks the buyer's e-mail, and the shop
    knows none (or was given one that is no address): the order's confirmation would have
    nowhere to go, and its buyer no way to find it again."""

    code = "email_required"
