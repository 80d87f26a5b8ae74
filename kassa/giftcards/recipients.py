"""Whom a gift card in a cart is for: kept beside its line until the card is issued."""

from datetime import date

from django.db import transaction

from kassa.giftcards.models import GiftCardRecipient
from kassa.orders.models import Order, OrderLine


@transaction.atomic
def set_recipient(
    *,
    order: Order,
    item_id: int,
    recipient_email: str,
    recipient_name: str,
    message: str,
    send_on: date | None,
) -> None:
    """The gift-card line of `item_id` in the cart goes to this recipient (the last one given,
    for every card of the line)."""
    line = OrderLine.objects.filter(order=order, item_id=item_id).first()
    if line is None:
        return
    GiftCardRecipient.objects.update_or_create(
        line=line,
        defaults={
            "recipient_email": recipient_email,
            "recipient_name": recipient_name,
            "message": message,
            "send_on": send_on,
        },
    )
