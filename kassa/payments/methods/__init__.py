"""The payment kinds, each behind `PaymentMethod` (base.py): the only code that knows a kind or
reads a Stripe status. A new kind (a Payment Link) is one module here and a line below."""

from kassa.payments.methods import checkout_session, payment_intent
from kassa.payments.methods.base import PaymentMethod

_METHODS: dict[str, PaymentMethod] = {
    method.kind: method for method in (checkout_session.METHOD, payment_intent.METHOD)
}


def method_for(kind: str) -> PaymentMethod:
    """The kind's method; a kind the shop does not know is a programming error (KeyError)."""
    return _METHODS[kind]


def all_methods() -> list[PaymentMethod]:
    return list(_METHODS.values())
