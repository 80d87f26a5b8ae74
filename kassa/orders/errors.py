"""Why a cart change was refused; `message` is safe to show the customer."""

from kassa.common.errors import Conflict, Invalid, ShopError


class OrderError(ShopError):
    """The orders app's errors; each is also of one kind of kassa.common.errors."""


class OrderNotEditable(Conflict, OrderError):
    code = "order_not_editable"


class CurrencyMismatch(Conflict, OrderError):
    code = "currency_mismatch"


class InvalidQuantity(Invalid, OrderError):
    code = "invalid_quantity"


class ItemOffSale(Conflict, OrderError):
    code = "item_off_sale"


class InvalidDiscountCode(Invalid, OrderError):
    code = "invalid_discount_code"


class EmptyOrder(Conflict, OrderError):
    code = "empty_order"


class CartNeedsChanges(Conflict, OrderError):
    """The cart holds an item off sale, or more than is available: fixed first, then paid."""

    code = "cart_needs_changes"


class TooManyLines(Conflict, OrderError):
    """More distinct items than one payment can list (Stripe Checkout's 100 line items)."""

    code = "too_many_lines"


class BelowMinimumCharge(Conflict, OrderError):
    """Less than Stripe charges at the least in the order's currency."""

    code = "below_minimum_charge"


class NoShippingRate(Conflict, OrderError):
    """Goods to send in a currency the shop offers no shipping rate in: refused until staff add
    one, rather than sent free without anyone deciding so."""

    code = "no_shipping_rate"
