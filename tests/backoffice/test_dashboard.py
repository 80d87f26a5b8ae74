"""The owner's dashboard: its figures against a hand-computed shop, its queries, its page, the
CSV export, and the Orders admin split from carts and abandoned checkouts."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.backoffice.charts import nice_step, sales_chart
from kassa.backoffice.selectors import sales_overview
from kassa.catalog.models import Item
from kassa.orders.models import Discount, Order, OrderLine
from kassa.payments.models import PaymentAttempt
from tests.factories import ItemFactory, TaxFactory

pytestmark = pytest.mark.django_db
S = Order.Status
A = PaymentAttempt.State
# 15:00 in New York (EST, UTC-5) on 30 November 2026: today began at 05:00 UTC.
NOW = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def order(
    currency: str,
    status: str,
    *,
    paid: int | None = None,
    paid_at: datetime | None = None,
    refunded: int = 0,
    refunded_at: datetime | None = None,
    lines: list[tuple[Item, int]] = (),  # type: ignore[assignment]
    attempts: list[tuple[str, datetime]] = (),  # type: ignore[assignment]
) -> Order:
    made = Order.objects.create(
        currency=currency,
        status=status,
        amount_paid=paid,
        paid_at=paid_at,
        amount_refunded=refunded,
        refunded_at=refunded_at,
    )
    for item, quantity in lines:
        OrderLine.objects.create(order=made, item=item, quantity=quantity, unit_price=item.price)
    for number, (state, opened_at) in enumerate(attempts, start=1):
        attempt = PaymentAttempt.objects.create(
            order=made, number=number, kind="checkout_session", state=state, currency=currency
        )
        PaymentAttempt.objects.filter(pk=attempt.pk).update(opened_at=opened_at)
    return made


@pytest.fixture
def new_york(settings: SettingsWrapper) -> None:
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def shop(new_york: None) -> dict[str, Item]:
    """A month of a small shop in New York, in four currencies; the figures below are worked
    out by hand from it."""
    items = {
        "mug": ItemFactory.create(name="Mug", price=Decimal("14.50"), currency="usd"),
        "towel": ItemFactory.create(name="Towel", price=Decimal("9.90"), currency="usd"),
        # 4.35 is not exact in binary floating point: 3 × 4.35 must still come to 13.05.
        "pen": ItemFactory.create(name="Pen", price=Decimal("4.35"), currency="usd"),
        "clip": ItemFactory.create(name="Clip", price=Decimal("3.00"), currency="usd"),
        "pin": ItemFactory.create(name="Pin", price=Decimal("2.00"), currency="usd"),
        "band": ItemFactory.create(name="Band", price=Decimal("0.50"), currency="usd"),
        "cloth": ItemFactory.create(name="Cloth", price=Decimal("1500"), currency="jpy"),
        "book": ItemFactory.create(name="Book", price=Decimal("12.00"), currency="eur"),
        "key": ItemFactory.create(name="Key ring", price=Decimal("4.50"), currency="kwd"),
    }
    i = items
    # 23:30 on 29 November in New York, already 30 November in UTC.
    order(
        "usd",
        S.PAID,
        paid=1000,
        paid_at=utc(11, 30, 4, 30),
        lines=[(i["mug"], 2)],
        attempts=[(A.PAID, utc(11, 30, 4, 25))],
    )
    # 00:30 on 30 November in New York: today.
    order(
        "usd",
        S.PAID,
        paid=2500,
        paid_at=utc(11, 30, 5, 30),
        lines=[(i["towel"], 1), (i["mug"], 1)],
        attempts=[(A.PAID, utc(11, 30, 5, 20))],
    )
    order(
        "jpy",
        S.PAID,
        paid=1500,
        paid_at=utc(11, 30, 12),
        lines=[(i["cloth"], 1)],
        attempts=[(A.PAID, utc(11, 30, 11, 55))],
    )
    order(
        "kwd",
        S.PAID,
        paid=13500,
        paid_at=utc(11, 30, 18),
        lines=[(i["key"], 3)],
        attempts=[(A.PAID, utc(11, 30, 17, 50))],
    )
    # Paid on the 20th, refunded in full today.
    order(
        "usd",
        S.REFUNDED,
        paid=4000,
        paid_at=utc(11, 20, 15),
        refunded=4000,
        refunded_at=utc(11, 30, 14),
        lines=[(i["mug"], 1)],
        attempts=[(A.PAID, utc(11, 20, 14, 50))],
    )
    # Paid on the 25th at the second attempt, partly refunded on the 26th.
    order(
        "eur",
        S.PARTIALLY_REFUNDED,
        paid=3000,
        paid_at=utc(11, 25, 12),
        refunded=1000,
        refunded_at=utc(11, 26, 12),
        lines=[(i["book"], 2)],
        attempts=[(A.CLOSED, utc(11, 25, 11)), (A.PAID, utc(11, 25, 11, 50))],
    )
    # Midnight starting 1 November in New York: the window's first moment. Summer time ends
    # there that night, so this midnight is 04:00 UTC (EDT), not 05:00 as at the end of the month.
    order(
        "usd",
        S.PAID,
        paid=900,
        paid_at=utc(11, 1, 4),
        lines=[(i["pen"], 3), (i["clip"], 1), (i["pin"], 1), (i["band"], 1)],
        attempts=[(A.PAID, utc(11, 1, 4, 0))],
    )
    # A minute before it (31 October in New York): outside the window, however many towels.
    order(
        "usd",
        S.PAID,
        paid=99000,
        paid_at=utc(11, 1, 3, 59),
        lines=[(i["towel"], 100)],
        attempts=[(A.PAID, utc(11, 1, 3, 50))],
    )
    order("usd", S.OPEN, lines=[(i["mug"], 1)])  # a cart
    order("usd", S.OPEN, lines=[(i["towel"], 1)], attempts=[(A.CLOSED, utc(11, 30, 13))])
    order("usd", S.PENDING, lines=[(i["mug"], 1)], attempts=[(A.OPEN, utc(11, 30, 19))])
    return items


def test_the_figures_are_the_hand_computed_ones(shop: dict[str, Item]) -> None:
    overview = sales_overview(now=NOW)

    assert overview.today == date(2026, 11, 30)
    assert overview.time_zone == "America/New_York"
    per_day = {
        sales.currency: {d.day.day: (d.orders, d.amount) for d in sales.days if d.orders}
        for sales in overview.sales
    }
    assert per_day == {
        "eur": {25: (1, 3000)},
        "jpy": {30: (1, 1500)},
        "kwd": {30: (1, 13500)},
        # The order paid at 23:30 in New York counts on the 29th, not on UTC's 30th.
        "usd": {1: (1, 900), 20: (1, 4000), 29: (1, 1000), 30: (1, 2500)},
    }
    usd = next(s for s in overview.sales if s.currency == "usd")
    assert [d.day for d in usd.days] == [date(2026, 11, n) for n in range(1, 31)]
    assert (usd.total, usd.orders) == (8400, 4)

    today, week, month = overview.periods
    assert (today.days, week.days, month.days) == (1, 7, 30)
    assert today.since == datetime(2026, 11, 30, 5, tzinfo=UTC)
    assert week.since == datetime(2026, 11, 24, 5, tzinfo=UTC)
    assert month.since == datetime(2026, 11, 1, 4, tzinfo=UTC)  # EDT still
    assert (today.paid_orders, today.paid) == (3, {"usd": 2500, "jpy": 1500, "kwd": 13500})
    assert (today.refunded_orders, today.refunded) == (1, {"usd": 4000})
    assert (week.paid_orders, week.paid) == (
        5,
        {"usd": 3500, "jpy": 1500, "kwd": 13500, "eur": 3000},
    )
    assert (week.refunded_orders, week.refunded) == (2, {"usd": 4000, "eur": 1000})
    assert (month.paid_orders, month.paid) == (
        7,
        {"usd": 8400, "jpy": 1500, "kwd": 13500, "eur": 3000},
    )
    assert (month.refunded_orders, month.refunded) == (2, {"usd": 4000, "eur": 1000})

    # Orders whose checkout began in the period, and those of them paid: the EUR order's two
    # attempts are one checkout; the pending order's is still open.
    assert (today.checkouts_started, today.checkouts_paid, today.conversion_percent) == (5, 3, 60)
    assert (week.checkouts_started, week.checkouts_paid, week.conversion_percent) == (7, 5, 71)
    assert (month.checkouts_started, month.checkouts_paid, month.conversion_percent) == (9, 7, 78)

    top = {
        currency: [(t.name, t.quantity, t.amount) for t in items]
        for currency, items in overview.top_items.items()
    }
    assert top == {
        "eur": [("Book", 2, 2400)],
        "jpy": [("Cloth", 1, 1500)],
        "kwd": [("Key ring", 3, 13500)],
        # Five of six, best first; the towels sold before the window do not count.
        "usd": [
            ("Mug", 4, 5800),
            ("Pen", 3, 1305),
            ("Towel", 1, 990),
            ("Clip", 1, 300),
            ("Pin", 1, 200),
        ],
    }
    assert (overview.carts, overview.abandoned_checkouts) == (1, 1)


def test_in_utc_the_late_order_is_todays(shop: dict[str, Item], settings: SettingsWrapper) -> None:
    settings.TIME_ZONE = "UTC"
    usd = next(s for s in sales_overview(now=NOW).sales if s.currency == "usd")
    assert {d.day.day: d.amount for d in usd.days if d.orders} == {
        1: 99000 + 900,
        20: 4000,
        30: 1000 + 2500,
    }


def test_an_empty_shop_has_empty_figures() -> None:
    overview = sales_overview()
    assert overview.sales == []
    assert overview.top_items == {}
    assert [p.paid_orders for p in overview.periods] == [0, 0, 0]
    assert overview.periods[0].conversion_percent is None


def many_paid_orders(count: int) -> None:
    """`count` paid orders over the last 30 days in three currencies, each with a line and a
    paid attempt, and as many carts, inserted in bulk."""
    items = [
        ItemFactory.create(currency=currency, price=price)
        for currency, price in (("usd", Decimal("12.34")), ("eur", Decimal("5")), ("jpy", 900))
    ]
    now = datetime.now(UTC)
    orders = Order.objects.bulk_create(
        Order(
            currency=items[n % 3].currency,
            status=S.PAID if n % 2 else S.OPEN,
            amount_paid=1000 + n if n % 2 else None,
            paid_at=now - timedelta(minutes=2 * n) if n % 2 else None,  # within 28 days
        )
        for n in range(2 * count)
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=o, item=items[n % 3], quantity=1 + n % 4, unit_price=items[n % 3].price)
        for n, o in enumerate(orders)
    )
    PaymentAttempt.objects.bulk_create(
        PaymentAttempt(order=o, number=1, kind="checkout_session", state=A.PAID, currency="usd")
        for o in orders
        if o.status == S.PAID
    )


@pytest.mark.parametrize("count", [10, 10_000])
def test_the_figures_take_twelve_queries_however_many_orders(count: int) -> None:
    many_paid_orders(count)
    with CaptureQueriesContext(connection) as captured:
        overview = sales_overview()
    # Nine aggregates (gift cards sold and outstanding per currency among them), the first
    # order of the best sellers' window, and two for the discounts' uses and revenue.
    assert len(captured) == 12
    assert overview.periods[-1].paid_orders == count


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("owner", "owner@example.com", "pw"))
    return client


def index_queries(client: Client) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/admin/")
    assert response.status_code == 200
    assert "Sales per day in USD" in response.text
    return len(captured)


def test_the_admin_index_costs_the_same_with_10_or_10000_orders(staff_client: Client) -> None:
    many_paid_orders(10)
    few = index_queries(staff_client)
    many_paid_orders(9_990)
    assert index_queries(staff_client) == few


def test_the_figures_are_cached_for_a_minute(staff_client: Client) -> None:
    item = ItemFactory.create(currency="usd")
    order("usd", S.PAID, paid=1234, paid_at=datetime.now(UTC), lines=[(item, 1)])
    cache.clear()
    assert "$12.34" in staff_client.get("/admin/").text
    order("usd", S.PAID, paid=1000, paid_at=datetime.now(UTC), lines=[(item, 1)])
    with CaptureQueriesContext(connection) as captured:
        again = staff_client.get("/admin/").text
    assert "$12.34" in again
    assert "$22.34" not in again
    assert [
        q["sql"] for q in captured.captured_queries if "payments_paymentattempt" in q["sql"]
    ] == []
    cache.clear()
    assert "$22.34" in staff_client.get("/admin/").text


def test_the_index_draws_a_chart_and_its_table_per_currency(
    shop: dict[str, Item], staff_client: Client
) -> None:
    cache.clear()
    page = staff_client.get("/admin/").text
    for code in ("USD", "EUR", "JPY", "KWD"):
        assert f'<title id="sales-{code.lower()}-title">Sales per day in {code}' in page
        assert f"The figures behind the chart ({code})" in page
    assert 'role="img"' in page
    assert "<desc id=" in page
    assert "Carts and abandoned checkouts" in page
    assert 'action="/admin/sales/export/"' in page
    assert 'style="' not in page.split('id="content"')[1]  # the CSP allows no inline style


def test_the_index_reads_in_russian(shop: dict[str, Item], staff_client: Client) -> None:
    cache.clear()
    page = staff_client.get("/admin/", headers={"Accept-Language": "ru"}).text
    for russian in ("Продажи за день", "Оплачено заказов", "Конверсия", "Выгрузить"):
        assert russian in page, russian


def test_staff_who_may_not_see_orders_see_no_sales() -> None:
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_item"))
    client = Client()
    client.force_login(clerk)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Sales at a glance" not in page.text
    assert client.get("/admin/sales/export/").status_code == 403


def test_the_chart_scale_is_round_amounts() -> None:
    assert nice_step(0, at_least=100) == 100
    assert nice_step(401, at_least=1) == 200  # 4 × 101 would do, 4 × 200 reads better
    assert nice_step(4000, at_least=100) == 1000
    assert nice_step(8400, at_least=100) == 5000
    assert nice_step(13500, at_least=1000) == 5000


def test_a_chart_names_its_best_day(shop: dict[str, Item]) -> None:
    usd = next(s for s in sales_overview(now=NOW).sales if s.currency == "usd")
    chart = sales_chart(usd)
    assert chart.title == "Sales per day in USD, last 30 days"
    assert "$84.00 in 4 paid orders" in chart.description
    assert "the best day was 20 Nov with $40.00" in chart.description
    assert len(chart.bars) == 30
    assert [t.label for t in chart.ticks] == ["$0.00", "$10.00", "$20.00", "$30.00", "$40.00"]
    assert chart.days[-1].label == "30 Nov"


def export(client: Client, **query: str) -> list[list[str]]:
    response = client.get("/admin/sales/export/", query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(text)))


def test_the_export_has_a_row_per_line_of_paid_orders(
    shop: dict[str, Item], staff_client: Client
) -> None:
    rows = export(staff_client, start="2026-11-29", end="2026-11-30")
    header, *lines = rows
    assert header[:8] == [
        "order",
        "paid_at",
        "status",
        "currency",
        "item_id",
        "item",
        "quantity",
        "unit_price",
    ]
    got = [(r[3], r[5], r[6], r[7], r[8], r[12]) for r in lines]
    assert got == [
        ("USD", "Mug", "2", "14.50", "29.00", "10.00"),  # paid 23:30 on the 29th, New York
        ("USD", "Towel", "1", "9.90", "9.90", "25.00"),
        ("USD", "Mug", "1", "14.50", "14.50", "25.00"),
        ("JPY", "Cloth", "1", "1500", "1500", "1500"),
        ("KWD", "Key ring", "3", "4.500", "13.500", "13.500"),
    ]
    assert lines[0][1] == "2026-11-29T23:30:00-05:00"
    # The 28th alone: nothing paid, only the header.
    assert export(staff_client, start="2026-11-28", end="2026-11-28") == [header]


def test_the_export_splits_discount_and_tax_per_line(staff_client: Client) -> None:
    item = ItemFactory.create(name="=HYPERLINK(1)", price=Decimal("10.00"), currency="usd")
    made = order("usd", S.PAID, paid=1200, paid_at=datetime.now(UTC), lines=[(item, 1)])
    made.tax = TaxFactory.create(percentage=Decimal("20"))
    made.save()
    [_, row] = export(staff_client)
    assert row[5] == "'=HYPERLINK(1)"  # text, not a formula
    assert row[8:12] == ["10.00", "0.00", "2.00", "no"]


def test_the_exports_line_totals_and_shipping_add_up_to_what_was_paid(
    staff_client: Client,
) -> None:
    mug = ItemFactory.create(name="Mug", price=Decimal("10.00"), currency="usd")
    towel = ItemFactory.create(name="Towel", price=Decimal("5.55"), currency="usd")
    # 2 × 10.00 + 5.55 = 25.55, tax 20% = 5.11, shipping 4.00: 34.66 paid.
    made = order("usd", S.PAID, paid=3466, paid_at=datetime.now(UTC), lines=[(mug, 2), (towel, 1)])
    made.tax = TaxFactory.create(percentage=Decimal("20"))
    made.shipping_amount = 400
    made.shipping_method = "Courier"
    made.save()

    header, *rows = export(staff_client)

    column = {name: index for index, name in enumerate(header)}
    line_totals = sum(Decimal(row[column["line_total"]]) for row in rows)
    shipping = Decimal(rows[0][column["order_shipping"]])
    assert shipping == Decimal("4.00")
    assert rows[0][column["shipping_method"]] == "Courier"
    assert line_totals + shipping == Decimal(rows[0][column["order_amount_paid"]])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-11-30", "end": "2026-11-01"}, "The last day comes before the first."),
        ({"start": "2025-01-01", "end": "2026-11-30"}, "Export at most 367 days at a time."),
        ({"start": "30.11.2026", "end": "2026-11-30"}, "Enter a valid date."),
        ({"end": "2026-11-30"}, "This field is required."),
    ],
)
def test_a_bad_range_is_refused_with_a_reason(
    staff_client: Client, query: dict[str, str], message: str
) -> None:
    response = staff_client.get("/admin/sales/export/", query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert message in response.text


def test_the_export_is_for_staff_only(client: Client) -> None:
    response = client.get("/admin/sales/export/", {"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_orders_list_opens_on_paid_orders_and_carts_have_their_own(
    shop: dict[str, Item], staff_client: Client
) -> None:
    cart = Order.objects.filter(status=S.OPEN).first()
    pending = Order.objects.get(status=S.PENDING)
    assert cart is not None
    orders = staff_client.get("/admin/orders/order/").text
    assert f"Order #{pending.pk}<" in orders
    assert f"Order #{cart.pk}<" not in orders
    everything = staff_client.get("/admin/orders/order/", {"shown": "all"}).text
    assert f"Order #{cart.pk}<" in everything

    carts = staff_client.get("/admin/dashboard/cart/")
    assert carts.status_code == 200
    opened = Order.objects.filter(status=S.OPEN).order_by("pk")
    for each in opened:
        assert f"Order #{each.pk}<" in carts.text
    assert f"Order #{pending.pk}<" not in carts.text
    assert "abandoned checkout" in carts.text
    assert ">cart<" in carts.text
    only_abandoned = staff_client.get("/admin/dashboard/cart/", {"kind": "abandoned"}).text
    assert f"Order #{opened[0].pk}<" not in only_abandoned
    assert f"Order #{opened[1].pk}<" in only_abandoned
    # A cart's own page, with its lines, still opens from either list.
    assert staff_client.get(f"/admin/dashboard/cart/{cart.pk}/change/").status_code == 200
    assert staff_client.get(f"/admin/orders/order/{cart.pk}/change/").status_code == 200


def _listed(client: Client, link: str) -> int:
    """How many rows the admin list a dashboard link opens shows."""
    page = client.get(link)
    assert page.status_code == 200
    found = re.search(r'class="paginator">\s*(\d+) ', page.text)
    assert found, link
    return int(found[1])


def test_what_needs_attention_is_counted_and_each_link_lists_as_many(
    staff_client: Client, settings: SettingsWrapper
) -> None:
    settings.SHOP_LOW_STOCK = 5
    ItemFactory.create(stock=3)  # low
    ItemFactory.create(stock=6, reserved=2)  # low: 4 available
    ItemFactory.create(stock=2, reserved=2)  # sold out while being paid for
    ItemFactory.create(stock=0)  # sold out
    ItemFactory.create(stock=50)
    ItemFactory.create(stock=None)  # not tracked
    S, F = Order.Status, Order.Fulfilment
    for status, fulfilment, oversold in [
        (S.PAID, F.UNFULFILLED, False),
        (S.PAID, F.UNFULFILLED, True),
        (S.PARTIALLY_REFUNDED, F.UNFULFILLED, False),
        (S.PAID, F.SHIPPED, True),  # shipped: settled
        (S.PAID, F.NOT_REQUIRED, False),  # nothing to ship
        (S.REFUNDED, F.UNFULFILLED, False),  # money returned: nothing owed
        (S.PENDING, F.UNFULFILLED, False),  # not paid yet
    ]:
        Order.objects.create(
            currency="usd", status=status, fulfilment_status=fulfilment, oversold=oversold
        )

    overview = sales_overview()
    assert (overview.to_ship, overview.oversold_to_ship) == (3, 1)
    assert (overview.low_stock, overview.sold_out) == (2, 2)

    cache.clear()
    index = " ".join(staff_client.get("/admin/").text.split())
    for shown in ("3 paid orders to ship", "1 of them oversold", "2 items low in stock"):
        assert shown in index
    assert "2 items sold out" in index
    links = [href.replace("&amp;", "&") for href in re.findall(r'<a href="([^"]+\?[^"]+)"', index)]
    ship = next(link for link in links if "fulfilment_status" in link and "oversold" not in link)
    oversold = next(link for link in links if "oversold__exact=1" in link)
    assert _listed(staff_client, ship) == 3
    assert _listed(staff_client, oversold) == 1
    assert _listed(staff_client, "/admin/catalog/item/?stock=low") == 2
    assert _listed(staff_client, "/admin/catalog/item/?stock=out") == 2
    assert {"/admin/catalog/item/?stock=low", "/admin/catalog/item/?stock=out"} <= set(links)


def test_uses_and_revenue_per_discount_count_codes_and_automatic_ones() -> None:
    code = Discount.objects.create(name="Spring", code="SPRING", percent_off=Decimal("10"))
    sale = Discount.objects.create(name="Sale", percent_off=Decimal("5"), automatic=True)
    paid = timezone.now()
    for discount, promotion, amount, refunded in (
        (code, None, 900, 0),
        (code, sale, 1800, 300),
        (None, sale, 500, 0),
    ):
        Order.objects.create(
            currency="usd",
            status=Order.Status.PAID,
            discount=discount,
            promotion=promotion,
            amount_paid=amount,
            amount_refunded=refunded,
            paid_at=paid,
        )
    Order.objects.create(currency="usd", discount=code)  # a cart: not a use
    figures = {d.name: (d.orders, d.revenue, d.automatic) for d in sales_overview().discounts}
    assert figures == {
        "Spring": (2, {"usd": 2400}, False),
        "Sale": (2, {"usd": 2000}, True),
    }
