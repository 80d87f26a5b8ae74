"""The few payment failures the rest of the shop needs to tell apart."""


class PaymentError(Exception):
    """A payment could not be started; `message` is safe to show a customer."""

    status_code = 502

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PaymentsNotConfigured(PaymentError):
    status_code = 503


class PaymentProviderUnavailable(PaymentError):
    """Stripe could not be reached, timed out, or kept failing after our retries."""

    status_code = 503


class PaymentProviderRejected(PaymentError):
    """Stripe refused the request: a configuration or programming error on our side."""

    status_code = 502


class CheckoutConflict(PaymentError):
    """The order's state does not allow this checkout (paid already, or superseded)."""

    status_code = 409


class CheckoutSuperseded(CheckoutConflict):
    """A newer checkout attempt for the same order started while this one was being made."""


class RefundFailed(PaymentError):
    """A refund staff asked for was not made; `message` says why, in refund words."""

    status_code = 409
