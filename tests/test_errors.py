"""One error model: each shop error is of one kind, and each kind has one HTTP answer."""

import pytest

from kassa.common.errors import ShopError
from kassa.common.http import status_of
from kassa.orders.errors import (
    CurrencyMismatch,
    EmptyOrder,
    InvalidDiscountCode,
    InvalidQuantity,
    OrderError,
    OrderNotEditable,
)
from kassa.payments.errors import (
    CheckoutConflict,
    CheckoutSuperseded,
    PaymentError,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    PaymentsNotConfigured,
    RefundFailed,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OrderNotEditable, 409),
        (CurrencyMismatch, 409),
        (InvalidQuantity, 400),
        (InvalidDiscountCode, 400),
        (EmptyOrder, 409),
        (PaymentsNotConfigured, 503),
        (PaymentProviderUnavailable, 503),
        (PaymentProviderRejected, 502),
        (CheckoutConflict, 409),
        (CheckoutSuperseded, 409),
        (RefundFailed, 409),
    ],
)
def test_each_error_answers_the_status_of_its_kind(error: type[ShopError], status: int) -> None:
    assert status_of(error("Told as it is.")) == status
    assert error("Told as it is.").message == "Told as it is."


def test_the_apps_errors_keep_their_own_bases() -> None:
    # Code that catches an app's errors (a failed checkout reopening its order) still can.
    for error in (OrderNotEditable, CurrencyMismatch, InvalidQuantity, InvalidDiscountCode):
        assert issubclass(error, OrderError)
    for payment_error in (PaymentsNotConfigured, CheckoutSuperseded, RefundFailed):
        assert issubclass(payment_error, PaymentError)
    assert not issubclass(PaymentsNotConfigured, OrderError)


def test_an_error_of_no_kind_is_a_500() -> None:
    assert status_of(ShopError("Nothing says what went wrong.")) == 500
