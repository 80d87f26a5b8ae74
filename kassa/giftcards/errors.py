"""What goes wrong with a gift card, as the customer is told it."""

from kassa.common.errors import Conflict, Invalid, ShopError


class GiftCardError(ShopError):
    code = "gift_card_error"


class GiftCardNotUsable(Invalid, GiftCardError):
    """A code that names no card the cart can use (unknown, disabled, expired, spent, another
    currency): one message for all, so a guesser learns nothing about other people's cards."""

    code = "invalid_gift_card"


class GiftCardBalanceChanged(Conflict, GiftCardError):
    """A card applied in the cart has nothing left to pay with now (spent in another tab)."""

    code = "gift_card_balance_changed"


class InsufficientBalance(Conflict, GiftCardError):
    """A change that would take a card below zero."""

    code = "gift_card_insufficient_balance"
