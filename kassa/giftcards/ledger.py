"""The only code that changes a gift card's balance: each change is a ledger row, written under
the card's row lock beside the kept balance, which the database refuses to take below zero.

Holds follow a payment attempt like stock does: `held` (−) when a payment begins, then either
`released` (+) when the attempt closes without money, or `released` (+) and `spent` (−) together
when it is paid, so a card's holds always come back to nothing and the ledger reads as what
happened. A card's balance is what it can still pay with: its holds are already taken off.
"""

import calendar
import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.giftcards import codes
from kassa.giftcards.errors import InsufficientBalance
from kassa.giftcards.models import GiftCard, GiftCardEntry
from kassa.orders.models import Order

logger = logging.getLogger(__name__)
Kind = GiftCardEntry.Kind


def expiry_from(now: datetime) -> datetime | None:
    """When a card issued `now` expires: SHOP_GIFT_CARD_MONTHS later, or never (blank)."""
    months = settings.SHOP_GIFT_CARD_MONTHS
    if not months:
        return None
    index = now.month - 1 + months
    year, month = now.year + index // 12, index % 12 + 1
    # The same day of the month, or its last day (31 January + 1 month: 28 or 29 February).
    return now.replace(
        year=year, month=month, day=min(now.day, calendar.monthrange(year, month)[1])
    )


def _post(
    card: GiftCard,
    *,
    kind: str,
    amount: int,
    order: Order | None = None,
    note: str = "",
    by: str = "",
) -> GiftCardEntry:
    """One change of `card`'s balance; the caller holds the card's row lock."""
    balance = card.balance + amount
    if balance < 0:
        raise InsufficientBalance(_("The gift card's balance is too low for this."))
    card.balance = balance
    card.save(update_fields=["balance"])
    entry = GiftCardEntry.objects.create(
        card=card,
        kind=kind,
        amount=amount,
        balance_after=balance,
        order=order,
        note=note[:300],
        by=by[:150],
    )
    # The card by its last characters only: a code is never written to a log.
    logger.info("gift card %s: %s %s -> %s", card.pk, kind, amount, balance)
    return entry


def lock(card_ids: Iterable[int]) -> list[GiftCard]:
    """The cards, locked in id order (two payments spending the same cards cannot deadlock)."""
    return list(GiftCard.objects.select_for_update().filter(pk__in=set(card_ids)).order_by("pk"))


@transaction.atomic
def issue(
    *,
    amount: int,
    currency: str,
    order: Order | None = None,
    by: str = "",
    note: str = "",
    **details: object,
) -> tuple[GiftCard, str]:
    """A new card of `amount` (minor units): the card and its code, the only time the code is
    known in full."""
    code = codes.new_code()
    now = timezone.now()
    card = GiftCard.objects.create(
        code_hash=codes.code_hash(code),
        last4=codes.last4(code),
        currency=currency.lower(),
        initial_amount=amount,
        expires_at=expiry_from(now),
        bought_with=order,
        **details,
    )
    _post(card, kind=Kind.ISSUED, amount=amount, order=order, note=note, by=by)
    return card, code


def held_by(order: Order, card: GiftCard | None = None) -> int:
    """What the order's holds keep of its cards now (of one card, given `card`)."""
    entries = GiftCardEntry.objects.filter(order=order, kind__in=[Kind.HELD, Kind.RELEASED])
    if card is not None:
        entries = entries.filter(card=card)
    return -int(entries.aggregate(total=Sum("amount"))["total"] or 0)


def _held_per_card(order: Order) -> dict[int, int]:
    held: dict[int, int] = {}
    for card_id, amount in GiftCardEntry.objects.filter(
        order=order, kind__in=[Kind.HELD, Kind.RELEASED]
    ).values_list("card_id", "amount"):
        held[card_id] = held.get(card_id, 0) - amount
    return {card_id: amount for card_id, amount in held.items() if amount}


def hold(card: GiftCard, *, amount: int, order: Order) -> None:
    """Keep `amount` of the locked `card` for `order`'s payment."""
    if amount > 0:
        _post(card, kind=Kind.HELD, amount=-amount, order=order)


@transaction.atomic
def release(*, order: Order, note: str = "") -> int:
    """Give the cards back what the order's holds keep (its attempt closed without money)."""
    held = _held_per_card(order)
    total = 0
    for card in lock(held):
        _post(card, kind=Kind.RELEASED, amount=held[card.pk], order=order, note=note)
        total += held[card.pk]
    return total


@transaction.atomic
def spend_held(*, order: Order) -> dict[int, int]:
    """The order was paid: what its holds keep is spent. Returns what each card paid."""
    held = _held_per_card(order)
    for card in lock(held):
        _post(card, kind=Kind.RELEASED, amount=held[card.pk], order=order, note="paid")
        _post(card, kind=Kind.SPENT, amount=-held[card.pk], order=order)
    return held


@transaction.atomic
def spend(card_id: int, *, amount: int, order: Order, note: str = "") -> None:
    """Spend without a hold (a payment that arrived after its hold was released); refused
    (InsufficientBalance) if the card no longer has it."""
    [card] = lock([card_id])
    _post(card, kind=Kind.SPENT, amount=-amount, order=order, note=note)


def spent_by(order: Order) -> dict[int, int]:
    """What each card paid for the order, less what was given back to it."""
    paid: dict[int, int] = {}
    for card_id, amount in GiftCardEntry.objects.filter(
        order=order, kind__in=[Kind.SPENT, Kind.REFUNDED]
    ).values_list("card_id", "amount"):
        paid[card_id] = paid.get(card_id, 0) - amount
    return {card_id: amount for card_id, amount in paid.items() if amount > 0}


@transaction.atomic
def refund(*, order: Order, by: str, note: str = "", at_most: int | None = None) -> int:
    """Give the cards back what they paid for the order (and were not given back yet), at
    most `at_most` in all (the first cards applied first). Returns what went back."""
    paid = spent_by(order)
    total = 0
    for card in lock(paid):
        part = paid[card.pk] if at_most is None else min(paid[card.pk], at_most - total)
        if part > 0:
            _post(card, kind=Kind.REFUNDED, amount=part, order=order, note=note, by=by)
            total += part
    return total


@transaction.atomic
def adjust(*, card_id: int, amount: int, note: str, by: str) -> GiftCardEntry:
    """A staff correction of the balance, up or down, with why."""
    if not note.strip():
        raise InsufficientBalance(_("Say why the balance changes."))
    [card] = lock([card_id])
    return _post(card, kind=Kind.ADJUSTED, amount=amount, note=note, by=by)


def ledger_sum(card: GiftCard) -> int:
    return int(card.entries.aggregate(total=Sum("amount"))["total"] or 0)
