"""What the owner reads of gift cards: how many were sold, and what the shop still owes on them
(the outstanding balance, a liability until it is spent or the cards expire)."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone

from kassa.giftcards.models import GiftCard


@dataclass(frozen=True)
class GiftCardFigures:
    currency: str
    sold: int  # cards bought in the shop, ever
    sold_amount: int  # what they were bought for, minor units
    outstanding: int  # what unexpired cards still hold, minor units (held parts included)


def gift_card_figures(*, now: datetime | None = None) -> list[GiftCardFigures]:
    now = timezone.now() if now is None else now
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    rows = (
        GiftCard.objects.values("currency")
        .annotate(
            sold=Count("id", filter=Q(bought_with__isnull=False)),
            sold_amount=Sum("initial_amount", filter=Q(bought_with__isnull=False), default=0),
            outstanding=Sum("balance", filter=live, default=0),
        )
        .order_by("currency")
    )
    return [
        GiftCardFigures(
            currency=row["currency"],
            sold=row["sold"],
            sold_amount=int(row["sold_amount"]),
            outstanding=int(row["outstanding"]),
        )
        for row in rows
    ]
