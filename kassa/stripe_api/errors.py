"""What can go wrong talking to Stripe, as the rest of the shop sees it: a few exceptions of ours,
never stripe-python's. Each is also of one kind of kassa.common.errors (the kind decides the
HTTP answer), and its message is safe to show a customer."""

from django_stubs_ext import StrOrPromise

from kassa.common.errors import ProviderRejected, ShopError, Unavailable


class PaymentError(ShopError):
    """A payment could not be started or changed. The payment domain's own refusals
    (kassa.payments.errors) are PaymentErrors too, so one `except` covers a payment step."""


class PaymentsNotConfigured(Unavailable, PaymentError):
    code = "payments_not_configured"


class PaymentProviderUnavailable(Unavailable, PaymentError):
    """Stripe could not be reached, timed out, or kept failing after our retries."""

    code = "payment_provider_unavailable"


class PaymentProviderBusy(PaymentProviderUnavailable):
    """The shop's pace for Stripe, or its threads for waiting on Stripe, are taken for now, or a
    payment's deadline passed (kassa.stripe_api.sending): nothing was started; try again after
    `retry_after` seconds."""

    code = "payment_provider_busy"

    def __init__(self, message: StrOrPromise, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PaymentProviderRejected(ProviderRejected, PaymentError):
    """Stripe refused the request: a configuration or programming error on our side."""

    code = "payment_provider_rejected"


class StripeObjectMissing(PaymentProviderRejected):
    """Stripe does not know the object (`resource_missing`): made in an account whose keys have
    changed since, or deleted. Nothing can be paid through it any more."""

    code = "payment_provider_rejected"
