"""The admin's order lists and the export as a long history needs them: pages counted only a few
pages ahead, an e-mail found through its index, carts listed without a query per cart, the
export streamed in one query. (Their times at a million orders are `make bench --orders`.)"""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.backoffice import exports
from kassa.catalog.models import Item
from kassa.common import admin_paging
from kassa.common.admin_paging import LookaheadPaginator
from kassa.orders.models import Discount, Order, OrderLine, Tax
from tests.factories import DiscountFactory, ItemFactory, TaxFactory, carts_like_the_bench

pytestmark = pytest.mark.django_db
S = Order.Status


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("owner", "owner@example.com", "pw"))
    return client


def paid_orders(count: int, **fields: object) -> list[Order]:
    return Order.objects.bulk_create(
        Order(currency="usd", status=S.PAID, amount_paid=100, **fields) for _ in range(count)
    )


def test_a_list_counts_only_a_few_pages_past_the_page_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_paging, "PAGES_AHEAD", 2)
    paid_orders(11)
    first = LookaheadPaginator(Order.objects.all(), 3, page=1)
    assert (first.count, first.more, first.num_pages) == (9, True, 3)
    # Near the end the count is exact.
    third = LookaheadPaginator(Order.objects.all(), 3, page=3)
    assert (third.count, third.more, third.num_pages) == (11, False, 4)
    assert [o.pk for o in third.page(4).object_list] == [o.pk for o in Order.objects.all()[9:]]


def test_the_orders_list_says_more_than_and_pages_on(
    staff_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_paging, "PAGES_AHEAD", 1)
    monkeypatch.setattr(admin.site._registry[Order], "list_per_page", 2)
    paid_orders(7)
    page = staff_client.get("/admin/orders/order/")
    assert page.status_code == 200
    assert "more than 4 orders" in page.text
    assert "more than 4 results" in page.text  # beside the search box
    # Page 2 counts a page further: 6 of the 7 linked, and still more.
    assert "more than 6 orders" in staff_client.get("/admin/orders/order/", {"p": 2}).text
    last = staff_client.get("/admin/orders/order/", {"p": 4})
    assert last.status_code == 200
    assert "7 orders" in last.text
    assert "more than" not in last.text


def test_an_email_address_finds_its_orders_in_any_case(staff_client: Client) -> None:
    (theirs,) = paid_orders(1, email="Bob.Smith@Example.com")
    (other,) = paid_orders(1, email="bob.smith@example.community")
    page = staff_client.get("/admin/orders/order/", {"q": "  bob.smith@EXAMPLE.com "}).text
    assert f"Order #{theirs.pk}<" in page
    assert f"Order #{other.pk}<" not in page
    # Anything else is searched as Django's admin searches: a part of a name or e-mail.
    page = staff_client.get("/admin/orders/order/", {"q": "bob.smith"}).text
    assert f"Order #{theirs.pk}<" in page
    assert f"Order #{other.pk}<" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_email_search_reads_the_upper_cased_email_index() -> None:
    from kassa.backoffice.orders_admin import OrderAdmin

    model_admin = OrderAdmin(Order, admin.site)
    queryset, _ = model_admin.get_search_results(None, Order.objects.all(), "a@b.example")  # type: ignore[arg-type]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "order_email_upper" in plan


def _carts(count: int, items: list[Item], first: int = 1) -> None:
    user = User.objects.get_or_create(username="shopper", email="shopper@example.com")[0]
    code, tax = Discount.objects.first(), Tax.objects.first()
    carts_like_the_bench(count, items, user=user, code=code, tax=tax, first=first)


def test_the_carts_list_reads_the_same_queries_for_one_cart_or_thirty(
    staff_client: Client, settings: SettingsWrapper
) -> None:
    """Counted as `make bench --orders` counts the admin's pages: as the first request of a
    second (the catalog revision, under which the discounts' rules are kept, read afresh) with
    the cache empty. Every cart shown is priced by those rules: one read of the revision for the
    page, however many carts it shows."""
    settings.CATALOG_PAGE_REFRESH_SECONDS = 0
    items = [ItemFactory.create(price=Decimal("5.00"), currency="usd") for _ in range(3)]
    DiscountFactory.create(code="TEN")
    DiscountFactory.create(name="Spring sale", automatic=True, percent_off=Decimal("5"))
    TaxFactory.create()

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            page = staff_client.get("/admin/dashboard/cart/")
        assert page.status_code == 200
        assert "$14.25" in page.text  # the first cart: three units of $5.00, less the sale's 5%
        return len(captured)

    _carts(1, items)
    queries()  # the process's first look: it reads the discounts' rules, kept from then on
    one = queries()
    _carts(29, items, first=2)
    assert queries() == one
    page = staff_client.get("/admin/dashboard/cart/", {"kind": "abandoned"}).text
    assert page.count("abandoned checkout</td>") == 15


def test_the_export_streams_in_pieces_from_one_query(
    staff_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "CHUNK", 8)  # two rows a piece after the first
    item = ItemFactory.create(name="Mug", price=Decimal("2.50"), currency="usd")
    paid_at = datetime.now(UTC) - timedelta(hours=1)

    def order() -> None:
        made = Order.objects.create(currency="usd", status=S.PAID, amount_paid=500, paid_at=paid_at)
        OrderLine.objects.create(order=made, item=item, quantity=2, unit_price=item.price)

    def export() -> tuple[int, list[bytes]]:
        today = datetime.now(UTC).date()
        with CaptureQueriesContext(connection) as captured:
            response = staff_client.get(
                "/admin/sales/export/",
                {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()},
            )
            assert response.status_code == 200
            assert response.streaming
            pieces = list(response.streaming_content)  # type: ignore[attr-defined]
        return len(captured), pieces

    order()
    one, _ = export()
    for _ in range(6):
        order()
    seven, pieces = export()
    assert seven == one
    assert len(pieces) == 4  # the header with the first row, then two rows at a time
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode())))
    assert len(rows) == 8
    assert {row[8] for row in rows[1:]} == {"5.00"}


def test_an_export_that_fails_on_the_way_is_cut_off_not_finished(
    staff_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server sees the error mid-stream and drops the connection before the body's end,
    which a browser reports as a failed download."""
    monkeypatch.setattr(exports, "CHUNK", 4)  # one row a piece
    item = ItemFactory.create(price=Decimal("2.50"), currency="usd")
    for _ in range(3):
        made = Order.objects.create(
            currency="usd", status=S.PAID, amount_paid=250, paid_at=datetime.now(UTC)
        )
        OrderLine.objects.create(order=made, item=item, quantity=1, unit_price=item.price)
    totals = exports.order_totals
    calls = []

    def failing(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return totals(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(exports, "order_totals", failing)
    today = datetime.now(UTC).date()
    response = staff_client.get(
        "/admin/sales/export/", {"start": today.isoformat(), "end": today.isoformat()}
    )
    assert response.status_code == 200
    pieces = iter(response.streaming_content)  # type: ignore[attr-defined]
    assert next(pieces).startswith(b"order,")
    with pytest.raises(RuntimeError):
        list(pieces)
