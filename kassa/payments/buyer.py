"""The buyer's e-mail, where no Stripe page asks for it. Checkout and the card page collect the
address an order's confirmation goes to (and by which its buyer finds the order again); an order
its gift cards pay in full is paid without Stripe, so the shop asks for it itself, unless it
knows it already (a signed-in customer's)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy

from kassa.orders.models import Order
from kassa.payments.errors import EmailRequired

MISSING = gettext_lazy(
    "Your gift cards pay for the whole order: enter your e-mail address so that we can send "
    "you its confirmation."
)
INVALID = gettext_lazy("Enter a valid e-mail address for the order's confirmation.")
# The order's column (an EmailField's longest).
MAX_LENGTH = 254


def known_email(order: Order) -> str:
    """The customer's e-mail if the shop knows it already: Stripe asks again, but filled in."""
    return order.email or (order.user.email if order.user_id and order.user else "")


def typed_email(typed: str) -> str:
    """What the buyer typed, trimmed; "" if nothing. EmailRequired if it is no e-mail address,
    so that nothing of a payment begins with it."""
    email = typed.strip()
    if not email:
        return ""
    try:
        if len(email) > MAX_LENGTH:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError as exc:
        raise EmailRequired(INVALID) from exc
    return email


def asks_for_email(order: Order, *, cards_pay_all: bool) -> bool:
    """Whether the cart asks its buyer's e-mail beside Pay: its cards pay all of it, and the
    shop knows no address to confirm it to."""
    return cards_pay_all and not known_email(order)


def email_for_cards_alone(order: Order, *, typed: str) -> str:
    """The address the confirmation of an order paid by gift cards alone goes to: the one the
    shop knows, else the one typed (see typed_email). EmailRequired without either."""
    email = known_email(order) or typed
    if not email:
        raise EmailRequired(MISSING)
    return email
