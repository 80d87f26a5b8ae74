"""What the order lifecycle tells the layers above it (notifications), without importing them.

Each is sent inside the transaction that makes the change, once per change (the lifecycle's
functions change an order under its row lock, and only when something is new), so a receiver
that writes rows writes them in that same transaction: they exist exactly when the change does.
"""

from django.dispatch import Signal

# order_id: the order just became paid.
order_paid = Signal()
# order_id, amount_refunded (Stripe's running total, minor units), customer_told (the change
# that refunded tells the customer itself): a refund was recorded.
order_refunded = Signal()
# order_id: a checkout was left unpaid by a customer who agreed to hear from the shop.
order_abandoned = Signal()
# order_id: staff marked the order shipped.
order_shipped = Signal()
# order_id: the goods of a shipped order arrived.
order_delivered = Signal()
# order_id: a pending order's payment was cancelled, expired or failed; it is open (a cart) again.
order_cancelled = Signal()
