"""Why a cart change was refused; `message` is safe to show the customer."""


class OrderError(Exception):
    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OrderNotEditable(OrderError):
    pass


class CurrencyMismatch(OrderError):
    pass


class InvalidQuantity(OrderError):
    status_code = 400


class InvalidDiscountCode(OrderError):
    status_code = 400


class EmptyOrder(OrderError):
    pass
