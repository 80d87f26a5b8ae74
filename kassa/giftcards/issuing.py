"""The gift cards a paid order bought: issued, shown once to the buyer, and mailed to whom they
are for on the day the buyer chose (a mail queued now, due then: the worker sends it)."""

from datetime import datetime, time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kassa.common.money import format_amount, from_minor, to_minor
from kassa.giftcards import ledger
from kassa.giftcards.models import GiftCard, GiftCardRecipient
from kassa.notifications.models import Mail
from kassa.notifications.services import mail_queue_later
from kassa.orders.models import Order, OrderLine

# The hour (the shop's time zone) a card chosen for a later day is mailed.
SEND_HOUR = 9


def due_at(send_on: object) -> datetime:
    """When the mail for a card to be sent on `send_on` (a date, or None for now) is due."""
    now = timezone.now()
    if send_on is None:
        return now
    due = timezone.make_aware(
        datetime.combine(send_on, time(SEND_HOUR)),  # type: ignore[arg-type]
        timezone.get_default_timezone(),
    )
    return max(due, now)


@transaction.atomic
def issue_bought(*, order: Order, lines: list[OrderLine]) -> list[GiftCard]:
    """One card per unit of the paid `order`'s gift-card `lines`, each at its line's price;
    once."""
    if GiftCard.objects.filter(bought_with=order).exists():
        return []
    issued = []
    for line in lines:
        who = GiftCardRecipient.objects.filter(line=line).first()
        email = (who.recipient_email if who else "") or order.email
        amount = to_minor(line.unit_price, order.currency)
        for _unit in range(line.quantity):
            card, code = ledger.issue(
                amount=amount,
                currency=order.currency,
                order=order,
                note=f"bought with order {order.pk}",
                recipient_email=email,
                recipient_name=who.recipient_name if who else "",
                message=who.message if who else "",
                send_on=who.send_on if who else None,
            )
            card.code_to_show = code  # until the buyer's success page shows it
            card.save(update_fields=["code_to_show"])
            issued.append(card)
            if email:
                mail_queue_later(
                    due=due_at(card.send_on),
                    key=f"gift-card:{card.pk}",
                    kind=Mail.Kind.GIFT_CARD,
                    order_id=order.pk,
                    language=order.language or settings.LANGUAGE_CODE,
                    to=email,
                    code=code,
                    recipient_name=card.recipient_name,
                    sender_name=order.customer_name or order.email,
                    message=card.message,
                    amount=format_amount(from_minor(amount, order.currency), order.currency),
                    expires_at=card.expires_at.date().isoformat() if card.expires_at else "",
                )
    return issued


def codes_to_show(*, order: Order) -> list[tuple[GiftCard, str]]:
    """The codes of the cards `order` bought that the buyer has not been shown yet, each given
    once: only the request whose conditional UPDATE clears a code shows it (two tabs of the
    success page at once show it in one of them)."""
    shown = []
    for card in GiftCard.objects.filter(bought_with=order).exclude(code_to_show=""):
        code = card.code_to_show
        if GiftCard.objects.filter(pk=card.pk, code_to_show=code).update(code_to_show=""):
            card.code_to_show = ""
            shown.append((card, code))
    return shown
