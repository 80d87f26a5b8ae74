"""Why a cart change was refused; `message` is safe to show the customer."""

from kassa.common.errors import Conflict, Invalid, ShopError


class OrderError(ShopError):
    """The orders app's errors; each is also of one kind of kassa.common.errors."""


class OrderNotEditable(Conflict, OrderError):
    pass


class CurrencyMismatch(Conflict, OrderError):
    pass


class InvalidQuantity(Invalid, OrderError):
    pass


class InvalidDiscountCode(Invalid, OrderError):
    pass


class EmptyOrder(Conflict, OrderError):
    pass
