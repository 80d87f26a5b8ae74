"""The orders app's models, a module each: the order and its history, its lines, what staff
attach to it (discounts, taxes, shipping rates) and the stock it holds."""

from kassa.orders.models.adjustments import Discount, Tax
from kassa.orders.models.discount_use import DiscountUse
from kassa.orders.models.lines import MAX_QUANTITY, OrderLine
from kassa.orders.models.order import Order, OrderStatusChange
from kassa.orders.models.reservation import Reservation
from kassa.orders.models.shipping import ShippingRate

__all__ = [
    "MAX_QUANTITY",
    "Discount",
    "DiscountUse",
    "Order",
    "OrderLine",
    "OrderStatusChange",
    "Reservation",
    "ShippingRate",
    "Tax",
]
