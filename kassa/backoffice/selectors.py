"""The dashboard's figures: nine aggregate queries, however many orders the shop has.

Days are the shop's days: midnight to midnight in `TIME_ZONE`, the database truncating each
timestamp in that zone. Money stays per currency (an amount in minor units beside its currency
code) and is never added across currencies. Sales are gross: an order counts on the day it was
paid, and what was refunded of it counts, as refunds, on the day of its latest refund.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypedDict

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Round, RowNumber, TruncDate
from django.utils import timezone

from kassa.catalog.models import Item
from kassa.common.money import to_minor
from kassa.giftcards.selectors import GiftCardFigures, gift_card_figures
from kassa.notifications.models import Mail
from kassa.orders.models import Order, OrderLine
from kassa.payments.models import PaymentAttempt

DAYS = 30
# The periods the figures are given for, each ending tonight at midnight: today, the last 7
# days and the last 30 days (today included).
PERIOD_DAYS = (1, 7, DAYS)
TOP_ITEMS = 5
# Long enough that a staff member clicking around the admin costs the figures once a minute,
# short enough that a sale shows within a minute.
CACHE_SECONDS = 60
PAID = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED)


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int
    amount: int  # minor units


@dataclass(frozen=True)
class CurrencySales:
    """One currency's sales per day, every day of the window present (zero when nothing sold)."""

    currency: str
    days: list[DaySales]

    @property
    def total(self) -> int:
        return sum(day.amount for day in self.days)

    @property
    def orders(self) -> int:
        return sum(day.orders for day in self.days)


@dataclass(frozen=True)
class Period:
    days: int
    since: datetime
    paid_orders: int = 0
    paid: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    refunded_orders: int = 0
    refunded: dict[str, int] = field(default_factory=dict)
    checkouts_started: int = 0  # orders with a payment attempt begun in the period
    checkouts_paid: int = 0  # of those, the ones paid through one of these attempts

    @property
    def conversion_percent(self) -> int | None:
        """Checkouts paid per hundred started, rounded half up; None when none started."""
        if not self.checkouts_started:
            return None
        return (200 * self.checkouts_paid + self.checkouts_started) // (2 * self.checkouts_started)


@dataclass(frozen=True)
class TopItem:
    item_id: int
    name: str
    currency: str
    quantity: int
    amount: int  # minor units: quantity × unit price, before the order's discount and tax


@dataclass(frozen=True)
class Overview:
    time_zone: str
    today: date
    computed_at: datetime
    sales: list[CurrencySales]  # by currency code
    periods: list[Period]  # as PERIOD_DAYS
    top_items: dict[str, list[TopItem]]  # currency -> up to TOP_ITEMS, best first
    carts: int  # open orders no payment was tried for
    abandoned_checkouts: int  # open orders whose every payment attempt was closed
    to_ship: int  # paid (or partly refunded) orders whose goods have not been shipped
    oversold_to_ship: int  # of those, the ones paid for beyond the stock (orders.stock)
    low_stock: int  # items with fewer available than SHOP_LOW_STOCK, as the Items filter
    sold_out: int  # items with stock tracked and none available
    # Checkouts recovered in the window: orders paid after their unpaid checkout's reminder
    # was sent, and what they brought in (currency -> minor units).
    recovered_orders: int = 0
    recovered: dict[str, int] = field(default_factory=dict)
    # Gift cards sold and what the shop still owes on them, per currency.
    gift_cards: list[GiftCardFigures] = field(default_factory=list)
    # Discounts taken by orders paid in the window, most orders first.
    discounts: list["DiscountSales"] = field(default_factory=list)


@dataclass(frozen=True)
class DiscountSales:
    """A discount's paid orders in the window and what they brought in after refunds."""

    discount_id: int
    name: str
    automatic: bool
    orders: int
    revenue: dict[str, int]  # currency -> minor units


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _paid_between(start: datetime, end: datetime, prefix: str = "") -> Q:
    return Q(
        **{
            f"{prefix}status__in": PAID,
            f"{prefix}paid_at__gte": start,
            f"{prefix}paid_at__lt": end,
        }
    )


def _refunded_between(start: datetime, end: datetime) -> Q:
    return Q(amount_refunded__gt=0, refunded_at__gte=start, refunded_at__lt=end)


def sales_overview(*, now: datetime | None = None) -> Overview:
    """The figures as of `now` (default: this moment), computed afresh."""
    zone = timezone.get_current_timezone()
    now = timezone.now() if now is None else now
    today = timezone.localtime(now, zone).date()
    end = _midnight(today + timedelta(days=1), zone)
    window = [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    start = _midnight(window[0], zone)
    since = {days: _midnight(today - timedelta(days=days - 1), zone) for days in PERIOD_DAYS}
    return Overview(
        time_zone=str(zone),
        today=today,
        computed_at=now,
        sales=_sales_per_day(window, start=start, end=end, zone=zone),
        periods=_periods(since, start=start, end=end),
        top_items=_top_items(start=start, end=end),
        **_carts(),
        **_to_ship(),
        **_restock(),
        **_recovered(start=start, end=end),
        gift_cards=gift_card_figures(now=now),
        discounts=_discounts(start=start, end=end),
    )


def _discounts(*, start: datetime, end: datetime) -> list[DiscountSales]:
    """Uses and revenue per discount: paid orders that took it as their code or their
    automatic discount (two grouped queries)."""
    found: dict[int, tuple[str, bool, int, dict[str, int]]] = {}
    paid = Order.objects.filter(_paid_between(start, end))
    for relation in ("discount", "promotion"):
        rows = (
            paid.exclude(**{f"{relation}_id": None})
            .values(f"{relation}_id", f"{relation}__name", f"{relation}__automatic", "currency")
            .annotate(n=Count("pk"), revenue=Sum(F("amount_paid") - F("amount_refunded")))
            .order_by()
        )
        for row in rows:
            key = row[f"{relation}_id"]
            name, automatic, orders, revenue = found.get(
                key, (row[f"{relation}__name"], row[f"{relation}__automatic"], 0, {})
            )
            revenue[row["currency"]] = revenue.get(row["currency"], 0) + int(row["revenue"] or 0)
            found[key] = (name, automatic, orders + row["n"], revenue)
    return sorted(
        (
            DiscountSales(discount_id=k, name=n, automatic=a, orders=o, revenue=r)
            for k, (n, a, o, r) in found.items()
        ),
        key=lambda d: (-d.orders, d.name),
    )


def cached_sales_overview() -> Overview:
    """The figures as of at most CACHE_SECONDS ago (kept per time zone, so a changed TIME_ZONE
    never shows another zone's days)."""
    key = f"kassa.backoffice.overview:{timezone.get_current_timezone_name()}"
    overview = cache.get_or_set(key, sales_overview, CACHE_SECONDS)
    assert isinstance(overview, Overview)
    return overview


def _sales_per_day(
    window: list[date], *, start: datetime, end: datetime, zone: tzinfo
) -> list[CurrencySales]:
    rows = (
        Order.objects.filter(_paid_between(start, end))
        .annotate(day=TruncDate("paid_at", tzinfo=zone))
        .values("currency", "day")
        .annotate(orders=Count("id"), amount=Coalesce(Sum("amount_paid"), 0))
        .order_by()
    )
    found: dict[str, dict[date, DaySales]] = {}
    for row in rows:
        day = DaySales(day=row["day"], orders=row["orders"], amount=row["amount"])
        found.setdefault(row["currency"], {})[row["day"]] = day
    return [
        CurrencySales(
            currency=currency,
            days=[by_day.get(day, DaySales(day=day, orders=0, amount=0)) for day in window],
        )
        for currency, by_day in sorted(found.items())
    ]


def _periods(since: dict[int, datetime], *, start: datetime, end: datetime) -> list[Period]:
    figures: dict[str, Count | Coalesce] = {}
    for days, begins in since.items():
        paid, refunded = _paid_between(begins, end), _refunded_between(begins, end)
        figures[f"paid_{days}"] = Count("id", filter=paid)
        figures[f"paid_amount_{days}"] = Coalesce(Sum("amount_paid", filter=paid), 0)
        figures[f"refunded_{days}"] = Count("id", filter=refunded)
        figures[f"refunded_amount_{days}"] = Coalesce(Sum("amount_refunded", filter=refunded), 0)
    by_currency: list[dict[str, Any]] = [
        dict(row)
        for row in Order.objects.filter(_paid_between(start, end) | _refunded_between(start, end))
        .values("currency")
        .annotate(**figures)
        .order_by("currency")
    ]
    checkouts: dict[str, Count] = {}
    for days, begins in since.items():
        begun = Q(opened_at__gte=begins, opened_at__lt=end)
        checkouts[f"started_{days}"] = Count("order", distinct=True, filter=begun)
        paid_through = begun & Q(state=PaymentAttempt.State.PAID)
        checkouts[f"paid_{days}"] = Count("order", distinct=True, filter=paid_through)
    attempts = PaymentAttempt.objects.filter(opened_at__gte=start, opened_at__lt=end).aggregate(
        **checkouts
    )
    return [
        Period(
            days=days,
            since=begins,
            paid_orders=sum(row[f"paid_{days}"] for row in by_currency),
            paid={
                row["currency"]: row[f"paid_amount_{days}"]
                for row in by_currency
                if row[f"paid_{days}"]
            },
            refunded_orders=sum(row[f"refunded_{days}"] for row in by_currency),
            refunded={
                row["currency"]: row[f"refunded_amount_{days}"]
                for row in by_currency
                if row[f"refunded_{days}"]
            },
            checkouts_started=attempts[f"started_{days}"],
            checkouts_paid=attempts[f"paid_{days}"],
        )
        for days, begins in since.items()
    ]


def _top_items(*, start: datetime, end: datetime) -> dict[str, list[TopItem]]:
    """The items that sold for most in each currency. A line's amount is computed exactly in
    the database as quantity × unit price in thousandths of the major unit (every currency's
    minor unit divides it; SQLite keeps decimals as floating point, so the price is rounded to
    a whole number of thousandths before anything is added up)."""
    thousandths = Cast(
        Sum(F("quantity") * Round(F("unit_price") * Value(1000))), output_field=BigIntegerField()
    )
    # Ids grow with time, so the window's orders are the newest few of a long history: lines
    # from the first of them on are read by their order index, not every line the shop has
    # (a condition the other one already implies: it changes no figure).
    # MIN(id + 0), not MIN(id): PostgreSQL would otherwise walk the primary key from the
    # oldest order until one was paid in the window, through nearly every order.
    window = Order.objects.filter(_paid_between(start, end))
    first = window.aggregate(first=Min(F("id") + 0))["first"] or 0
    rows = (
        OrderLine.objects.filter(_paid_between(start, end, prefix="order__"), order_id__gte=first)
        .values("item_id", "item__name", "order__currency")
        .annotate(quantity_sold=Sum("quantity"), thousandths=thousandths)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("order__currency")],
                order_by=[F("thousandths").desc(), F("item_id").asc()],
            )
        )
        .filter(rank__lte=TOP_ITEMS)
        .order_by("order__currency", "rank")
    )
    top: dict[str, list[TopItem]] = {}
    for row in rows:
        currency = row["order__currency"]
        top.setdefault(currency, []).append(
            TopItem(
                item_id=row["item_id"],
                name=row["item__name"],
                currency=currency,
                quantity=row["quantity_sold"],
                amount=to_minor(Decimal(row["thousandths"]).scaleb(-3), currency),
            )
        )
    return top


class _Recovered(TypedDict):
    recovered_orders: int
    recovered: dict[str, int]


def _recovered(*, start: datetime, end: datetime) -> _Recovered:
    reminded = Mail.objects.filter(
        order=OuterRef("pk"),
        kind=Mail.Kind.RECOVERY,
        state=Mail.State.SENT,
        sent_at__lte=OuterRef("paid_at"),
    )
    rows = (
        Order.objects.filter(_paid_between(start, end), Exists(reminded))
        .values("currency")
        .annotate(orders=Count("id"), amount=Sum("amount_paid"))
        .order_by("currency")
    )
    return {
        "recovered_orders": sum(row["orders"] for row in rows),
        "recovered": {row["currency"]: int(row["amount"] or 0) for row in rows},
    }


def _carts() -> dict[str, int]:
    tried = PaymentAttempt.objects.filter(order=OuterRef("pk"))
    counts = (
        Order.objects.filter(status=Order.Status.OPEN)
        .annotate(tried=Exists(tried))
        .aggregate(
            carts=Count("id", filter=Q(tried=False)),
            abandoned_checkouts=Count("id", filter=Q(tried=True)),
        )
    )
    return {"carts": counts["carts"], "abandoned_checkouts": counts["abandoned_checkouts"]}


# Orders whose goods are owed: what the admin's "to ship" link lists (fulfilment unfulfilled,
# paid or partly refunded).
TO_SHIP = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)


def _to_ship() -> dict[str, int]:
    counts = Order.objects.filter(
        status__in=TO_SHIP, fulfilment_status=Order.Fulfilment.UNFULFILLED
    ).aggregate(to_ship=Count("id"), oversold_to_ship=Count("id", filter=Q(oversold=True)))
    return {"to_ship": counts["to_ship"], "oversold_to_ship": counts["oversold_to_ship"]}


def _restock() -> dict[str, int]:
    """Counted as the Items list's stock filter lists them (kassa.catalog.admin.StockFilter)."""
    counts = (
        Item.objects.filter(stock__isnull=False)
        .alias(left=F("stock") - F("reserved"))
        .aggregate(
            low_stock=Count("id", filter=Q(left__gt=0, left__lt=settings.SHOP_LOW_STOCK)),
            sold_out=Count("id", filter=Q(left__lte=0)),
        )
    )
    return {"low_stock": counts["low_stock"], "sold_out": counts["sold_out"]}


def carts(*, queryset: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """Open orders, each with how many payment attempts it had (none: a cart; some, all
    closed: an abandoned checkout)."""
    orders = Order.objects.all() if queryset is None else queryset
    # Counted per order shown, in a subquery: a join and GROUP BY would count every cart's
    # attempts before the page's few are chosen.
    attempts = (
        PaymentAttempt.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return orders.filter(status=Order.Status.OPEN).annotate(
        attempt_count=Coalesce(Subquery(attempts), 0)
    )
