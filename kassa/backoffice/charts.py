"""Bar charts as plain SVG geometry, drawn by a template: no script, nothing inline to style.

Coordinates are in the SVG's own units (its viewBox); the page scales the drawing to fit.
"""

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kassa.backoffice.selectors import CurrencySales
from kassa.common.money import exponent, format_amount, from_minor

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 88, 8, 12, 28  # room for the amounts and the days
TICKS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # what a pointer over the bar is told


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    description: str
    bars: list[Bar]
    ticks: list[Tick]
    days: list[DayLabel]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def nice_step(value: int, *, at_least: int = 1) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ that is at least `at_least` and takes TICKS steps to
    reach `value`: the scale's steps read as round amounts."""
    needed = max(-(-value // TICKS), at_least, 1)
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if step >= needed:
                return step
        magnitude *= 10


def sales_chart(sales: CurrencySales) -> BarChart:
    code = sales.currency.upper()
    currency = sales.currency
    # One major unit at least: a quiet month is drawn against $0 to $4, not 0 to 4 cents.
    step = nice_step(max(day.amount for day in sales.days), at_least=10 ** exponent(currency))
    top = step * TICKS
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / len(sales.days)

    def money(minor: int) -> str:
        return format_amount(from_minor(minor, currency), currency)

    bars = []
    for n, day in enumerate(sales.days):
        height = plot_height * day.amount / top
        orders = ngettext("%(count)s order", "%(count)s orders", day.orders) % {"count": day.orders}
        bars.append(
            Bar(
                x=round(LEFT + n * slot + slot * 0.15, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=f"{date_format(day.day, 'j M')}: {money(day.amount)}, {orders}",
            )
        )
    ticks = [
        Tick(y=round(HEIGHT - BOTTOM - plot_height * n / TICKS, 1), label=money(step * n))
        for n in range(TICKS + 1)
    ]
    # A label every week, counted back from today so that today is always named.
    last = len(sales.days) - 1
    days = [
        DayLabel(x=round(LEFT + n * slot + slot / 2, 1), label=date_format(day.day, "j M"))
        for n, day in enumerate(sales.days)
        if (last - n) % 7 == 0
    ]
    best = max(sales.days, key=lambda day: (day.amount, day.day))
    description = _(
        "%(total)s in %(orders)s paid orders over %(days)s days, from %(first)s to %(last)s; "
        "the best day was %(best_day)s with %(best)s."
    ) % {
        "total": money(sales.total),
        "orders": sales.orders,
        "days": len(sales.days),
        "first": date_format(sales.days[0].day, "j M"),
        "last": date_format(sales.days[-1].day, "j M"),
        "best_day": date_format(best.day, "j M"),
        "best": money(best.amount),
    }
    return BarChart(
        id=f"sales-{currency}",
        title=_("Sales per day in %(currency)s, last %(days)s days")
        % {"currency": code, "days": len(sales.days)},
        description=description,
        bars=bars,
        ticks=ticks,
        days=days,
    )
