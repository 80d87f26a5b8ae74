"""The few payment failures the rest of the shop needs to tell apart."""

from django_stubs_ext import StrOrPromise

from kassa.common.errors import Conflict, ProviderRejected, ShopError, Unavailable


class PaymentError(ShopError):
    """A payment could not be started or changed; `message` is safe to show a customer. Each
    subclass is also of one kind of kassa.common.errors."""


class PaymentsNotConfigured(Unavailable, PaymentError):
    code = "payments_not_configured"


class PaymentProviderUnavailable(Unavailable, PaymentError):
    """Stripe could not be reached, timed out, or kept failing after our retries."""

    code = "payment_provider_unavailable"


class PaymentProviderBusy(PaymentProviderUnavailable):
    """The shop's pace for Stripe, or its threads for waiting on Stripe, are taken for now, or a
    payment's deadline passed (kassa.payments.guard): nothing was started; try again after
    `retry_after` seconds."""

    code = "payment_provider_busy"

    def __init__(self, message: StrOrPromise, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PaymentProviderRejected(ProviderRejected, PaymentError):
    """Stripe refused the request: a configuration or programming error on our side."""

    code = "payment_provider_rejected"


class CheckoutConflict(Conflict, PaymentError):
    """The order's state does not allow this checkout (paid already, or superseded)."""

    code = "checkout_conflict"


class CheckoutSuperseded(CheckoutConflict):
    """A newer checkout attempt for the same order started while this one was being made."""

    code = "checkout_superseded"


class RefundFailed(Conflict, PaymentError):
    """A refund was refused: the order is not paid, already refunded, or Stripe said no."""

    code = "refund_failed"


class StripeObjectMissing(PaymentProviderRejected):
    """Stripe does not know the object (`resource_missing`): made in an account whose keys have
    changed since, or deleted. Nothing can be paid through it any more."""

    code = "payment_provider_rejected"
