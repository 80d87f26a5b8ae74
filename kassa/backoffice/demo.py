"""A month of made-up sales of the demo catalog, so the dashboard has something to show.

The orders look as the shop's own would: lines at the items' prices, the amount paid computed by
the shop's pricing, a paid payment attempt per paid order (with a Stripe id no Stripe account
has, `cs_demo_...`), refunds, carts and abandoned checkouts (closed attempts only: an open one
would be asked about by reconcile_payments). Random, but the same every time for one seed.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from kassa.catalog.models import Item
from kassa.orders.models import Order, OrderLine, OrderStatusChange
from kassa.orders.pricing import order_totals
from kassa.payments.models import PaymentAttempt

S = Order.Status
SOURCE = "demo sales"


class ShopNotEmpty(Exception):
    """Demo sales go only into a shop without orders."""


@dataclass
class _Planned:
    order: Order
    lines: list[OrderLine]
    at: datetime  # when the customer started
    attempt: PaymentAttempt | None
    history: list[tuple[str, str, datetime]]


def _plan_order(
    rng: random.Random, items: list[Item], at: datetime, *, outcome: str, now: datetime
) -> _Planned:
    currency = rng.choice(sorted({item.currency for item in items}))
    choices = [item for item in items if item.currency == currency]
    chosen = rng.sample(choices, k=rng.randint(1, min(3, len(choices))))
    order = Order(currency=currency, status=S.OPEN)
    lines = [
        OrderLine(
            order=order, item=item, quantity=rng.choice((1, 1, 1, 2, 2, 3)), unit_price=item.price
        )
        for item in chosen
    ]
    total = order_totals(order, lines).total
    planned = _Planned(order=order, lines=lines, at=at, attempt=None, history=[])
    if outcome == "cart":
        return planned
    opened = at + timedelta(minutes=rng.randint(2, 30))
    attempt = PaymentAttempt(
        number=1,
        kind=PaymentAttempt.Kind.CHECKOUT_SESSION,
        account="demo",
        currency=currency,
        amount=total,
        opened_at=opened,
    )
    planned.attempt = attempt
    planned.history.append((S.OPEN, S.PENDING, opened))
    if outcome == "abandoned":
        # The customer came back from Checkout without paying, and went.
        closed = min(opened + timedelta(minutes=rng.randint(1, 20)), now)
        attempt.state, attempt.closed_at = PaymentAttempt.State.CLOSED, closed
        attempt.note = "checkout cancelled"
        planned.history.append((S.PENDING, S.OPEN, attempt.closed_at))
        return planned
    paid_at = opened + timedelta(minutes=rng.randint(1, 8))
    attempt.state, attempt.closed_at = PaymentAttempt.State.PAID, paid_at
    order.status, order.amount_paid, order.paid_at = S.PAID, total, paid_at
    # The last two days' orders still wait to be shipped; the older ones have arrived.
    recent = now - paid_at < timedelta(days=2)
    order.fulfilment_status = Order.Fulfilment.UNFULFILLED if recent else Order.Fulfilment.DELIVERED
    planned.history.append((S.PENDING, S.PAID, paid_at))
    if outcome in ("refunded", "partially_refunded"):
        refunded_at = min(paid_at + timedelta(days=rng.randint(1, 6)), now)
        full = outcome == "refunded"
        order.amount_refunded = total if full else total // 2
        order.status = S.REFUNDED if full else S.PARTIALLY_REFUNDED
        order.refunded_at = refunded_at
        planned.history.append((S.PAID, order.status, refunded_at))
    return planned


def _outcome(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.04:
        return "refunded"
    if roll < 0.07:
        return "partially_refunded"
    if roll < 0.22:
        return "abandoned"
    if roll < 0.30:
        return "cart"
    return "paid"


@transaction.atomic
def seed_demo_sales(*, days: int = 30, seed: int = 17, now: datetime | None = None) -> int:
    """Orders for the last `days` days (today included) from the catalog's items; returns how
    many. Refuses a shop that has orders already: demo sales never mix with real ones."""
    if Order.objects.exists():
        raise ShopNotEmpty("The shop has orders already: demo sales not made.")
    items = list(Item.objects.order_by("pk"))
    if not items:
        return 0
    rng = random.Random(seed)  # noqa: S311 - made-up sales, repeatable by their seed
    zone = timezone.get_default_timezone()
    now = timezone.now() if now is None else now
    today = timezone.localtime(now, zone).date()
    planned: list[_Planned] = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        # Busier at the weekend, and growing a little through the month.
        busy = 6 + (days - back) // 6 + (4 if day.weekday() >= 5 else 0)
        for _ in range(rng.randint(busy // 2, busy)):
            minute = rng.randint(8 * 60, 22 * 60)
            at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
            if at >= now - timedelta(minutes=45):
                continue  # nothing from the future, nor paid in it
            planned.append(_plan_order(rng, items, at, outcome=_outcome(rng), now=now))
    _save(planned)
    return len(planned)


def _save(planned: list[_Planned]) -> None:
    orders = Order.objects.bulk_create([p.order for p in planned])
    # created_at and updated_at are set on insert; the demo's own times are written after.
    for p, order in zip(planned, orders, strict=True):
        order.created_at = p.at
        order.updated_at = max(when for _, _, when in p.history) if p.history else p.at
    Order.objects.bulk_update(orders, ["created_at", "updated_at"], batch_size=500)
    for p in planned:
        for line in p.lines:
            line.order = p.order
    OrderLine.objects.bulk_create([line for p in planned for line in p.lines], batch_size=500)
    attempts = []
    for p in planned:
        if p.attempt is not None:
            p.attempt.order = p.order
            p.attempt.stripe_id = f"cs_demo_{p.order.pk}"
            attempts.append(p.attempt)
    opened = [a.opened_at for a in attempts]
    PaymentAttempt.objects.bulk_create(attempts, batch_size=500)
    for attempt, at in zip(attempts, opened, strict=True):
        attempt.opened_at = at
    PaymentAttempt.objects.bulk_update(attempts, ["opened_at"], batch_size=500)
    changes = [
        OrderStatusChange(order=p.order, from_status=a, to_status=b, source=SOURCE)
        for p in planned
        for a, b, _ in p.history
    ]
    times = [when for p in planned for _, _, when in p.history]
    OrderStatusChange.objects.bulk_create(changes, batch_size=500)
    for change, at in zip(changes, times, strict=True):
        change.at = at
    OrderStatusChange.objects.bulk_update(changes, ["at"], batch_size=500)
