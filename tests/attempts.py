"""What an order's payment attempts say, for assertions."""

from kassa.orders.models import Order
from kassa.payments.models import PaymentAttempt

LIVE = (PaymentAttempt.State.OPEN, PaymentAttempt.State.PAID)


def _live(order: Order) -> PaymentAttempt | None:
    """The order's newest attempt that is payable or paid."""
    return PaymentAttempt.objects.filter(order=order, state__in=LIVE).order_by("-number").first()


def session_of(order: Order) -> str:
    """The Checkout Session the order can be (or was) paid through, or ""."""
    attempt = _live(order)
    if attempt is None or attempt.kind != PaymentAttempt.Kind.CHECKOUT_SESSION:
        return ""
    return attempt.stripe_id


def intent_of(order: Order) -> str:
    """The PaymentIntent carrying the order's payment (its own, or its paid session's), or ""."""
    attempt = _live(order)
    return attempt.payment_intent_id if attempt is not None else ""


def attempt_count(order: Order) -> int:
    return PaymentAttempt.objects.filter(order=order).count()
