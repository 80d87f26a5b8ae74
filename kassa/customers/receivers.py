"""What customers' accounts do when an order changes (kassa.orders.signals)."""

from kassa.customers import addresses
from kassa.orders import signals


def connect() -> None:
    signals.order_paid.connect(addresses.order_paid, dispatch_uid="customers.order_paid")
