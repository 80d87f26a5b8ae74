"""Work per request that must not grow with the shop: SQL queries per page, Stripe calls per
checkout, and no database transaction held open while Stripe answers.

Counts, not timings: `make bench` measures time.
"""

import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kassa.catalog.models import Item
from kassa.orders.models import Discount, Order, OrderLine, ShippingRate, Tax
from kassa.payments import stripe_objects
from kassa.storefront.visitors import SESSION_KEY
from kassa.stripe_api import client as stripe_client
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.postgres import wire

pytestmark = pytest.mark.django_db


def queries(client: Client, path: str) -> int:
    """SQL queries of one GET of `path` rendered afresh, after a first GET has warmed what is
    cached for the process (a shared catalog page would otherwise come from its copy)."""
    assert client.get(path).status_code == 200
    caches["pages"].clear()
    caches["searches"].clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    assert response.templates, "the page was rendered, not served from a copy"
    return len(captured)


def visitor(client: Client) -> str:
    """Make `client` a visitor with orders of their own; returns their token."""
    token = secrets.token_hex(16)
    session = client.session
    session[SESSION_KEY] = token
    session.save()
    return token


def order_for(
    token: str,
    items: list[Item],
    *,
    discount: Discount | None = None,
    tax: Tax | None = None,
) -> Order:
    # Pending, as a visitor's orders beside their one cart are (one open order per visitor).
    order = Order.objects.create(
        currency="usd", visitor_token=token, discount=discount, tax=tax, status="pending"
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, item=item, quantity=1 + n % 3, unit_price=item.price)
        for n, item in enumerate(items)
    )
    return order


def test_the_catalog_makes_as_many_queries_for_50_items_as_for_one(client: Client) -> None:
    ItemFactory.create()
    one = queries(client, "/")
    ItemFactory.create_batch(49)
    assert queries(client, "/") == one


def test_an_item_page_makes_as_many_queries_in_a_big_catalog_as_in_a_small_one(
    client: Client,
) -> None:
    item = ItemFactory.create()
    small = queries(client, f"/item/{item.pk}/")
    ItemFactory.create_batch(49)
    assert queries(client, f"/item/{item.pk}/") == small


def test_an_order_page_makes_as_many_queries_for_50_lines_as_for_one(client: Client) -> None:
    token = visitor(client)
    discount, tax = DiscountFactory.create(), TaxFactory.create()
    items = ItemFactory.create_batch(50)
    one = order_for(token, items[:1], discount=discount, tax=tax)
    fifty = order_for(token, items, discount=discount, tax=tax)

    assert queries(client, f"/orders/{fifty.pk}/") == queries(client, f"/orders/{one.pk}/")


def test_the_orders_page_makes_as_many_queries_for_five_orders_as_for_one(client: Client) -> None:
    token = visitor(client)
    discount, tax = DiscountFactory.create(), TaxFactory.create()
    items = ItemFactory.create_batch(20)
    order_for(token, items[:1], discount=discount, tax=tax)
    one = queries(client, "/orders/")
    for size in (2, 5, 10, 20):
        order_for(token, items[:size], discount=discount, tax=tax)
    assert queries(client, "/orders/") == one


def test_a_checkout_with_a_discount_and_a_tax_is_one_stripe_call_after_the_first(
    client: Client, fake_stripe: FakeStripe
) -> None:
    token = visitor(client)
    discount = DiscountFactory.create(percent_off=Decimal("15"))
    tax = TaxFactory.create(percentage=Decimal("20"))
    items = ItemFactory.create_batch(3)
    first, second, third = (order_for(token, items, discount=discount, tax=tax) for _ in range(3))

    assert client.get(f"/orders/{first.pk}/buy/").status_code == 200
    # The first checkout also makes the coupon, the tax rate and the (factory's free) shipping
    # rate, once for the account.
    assert len(fake_stripe.requests) == 4
    for order in (second, third):
        before = len(fake_stripe.requests)
        assert client.get(f"/orders/{order.pk}/buy/").status_code == 200
        [call] = fake_stripe.requests[before:]
        assert (call.method, call.path) == ("POST", "/v1/checkout/sessions")


def test_shipping_rates_are_made_once_read_in_one_query_however_many_then_kept(
    fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    for n, name in enumerate(["Post", "Courier", "Express", "Pickup"]):
        ShippingRate.objects.create(name=name, amount=Decimal(n), currency="usd")
    item = ItemFactory.create()

    assert Client().get(f"/buy/{item.pk}").status_code == 200
    assert len(fake_stripe.requests_to("POST", "/v1/shipping_rates")) == 4
    before = len(fake_stripe.requests)
    with CaptureQueriesContext(connection) as captured:
        assert Client().get(f"/buy/{item.pk}").status_code == 200
    [call] = fake_stripe.requests[before:]
    assert (call.method, call.path) == ("POST", "/v1/checkout/sessions")
    assert len(call.body["shipping_options"]) == 4
    # The process that made them keeps their ids: the next click reads none of them.
    assert _statements(captured).count("SELECT payments_stripeshippingrate") == 0

    stripe_objects.forget_known()  # another process: it reads all four in one query
    with CaptureQueriesContext(connection) as captured:
        assert Client().get(f"/buy/{item.pk}").status_code == 200
    assert _statements(captured).count("SELECT payments_stripeshippingrate") == 1
    assert len(fake_stripe.requests_to("POST", "/v1/shipping_rates")) == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["buy now", "order"])
def test_no_database_transaction_is_open_while_stripe_answers(
    client: Client, fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A transaction (and its row locks) held across Stripe's round trip would make every
    concurrent checkout of the order, and the database's connections, wait on Stripe."""
    open_during_call: list[bool] = []
    call = stripe_client.call

    def observed(label: str, fn: Callable[..., Any], /, *args: str, **params: Any) -> Any:
        open_during_call.append(connection.in_atomic_block)
        return call(label, fn, *args, **params)

    monkeypatch.setattr(stripe_client, "call", observed)
    item = ItemFactory.create()
    if how == "buy now":
        path = f"/buy/{item.pk}"
    else:
        order = order_for(
            visitor(client), [item], discount=DiscountFactory.create(), tax=TaxFactory.create()
        )
        path = f"/orders/{order.pk}/buy/"

    assert client.get(path).status_code == 200
    assert open_during_call
    assert not any(open_during_call)


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """Each statement as its verb and table, leaving out transaction control; rows written
    together (kassa.common.inserts: a data-modifying WITH) as the statements they stand for."""
    summary = []
    for query in captured.captured_queries:
        sql = query["sql"]
        verb = sql.split(None, 1)[0].upper()
        if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
            continue
        if verb == "WITH":
            parts = re.findall(r'AS \((INSERT INTO|UPDATE)\s+"?(\w+)"?', sql)
            summary += [f"{written.split()[0]} {table}" for written, table in parts]
            continue
        match = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
        summary.append(f"{verb} {match[1] if match else '?'}")
    return summary


def _first_click(path: str) -> CaptureQueriesContext:
    """The statements of a new visitor's Buy click, as on a server that has served one before
    (the default taxes and shipping rates read within CATALOG_PAGE_REFRESH_SECONDS)."""
    assert Client().get(path).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(path)
    assert response.status_code == 200
    return captured


def test_a_first_buy_click_writes_its_order_once_and_reads_nothing_back(
    fake_stripe: FakeStripe, settings: Any
) -> None:
    """The Buy click is the shop's busiest write: at 64 clicks at once the server's CPU is the
    limit (make bench), so each statement here is one every click pays for."""
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    item = ItemFactory.create()
    assert _statements(_first_click(f"/buy/{item.pk}")) == [
        "SELECT catalog_item",
        # No tax or shipping rates read: the process keeps them (kassa.orders.checkout_defaults).
        "INSERT orders_order",  # created pending, in its first attempt
        "INSERT orders_orderstatuschange",
        "INSERT orders_orderline",
        "INSERT payments_paymentattempt",  # its first attempt, in the same transaction
        # No Stripe shipping rates read: the process keeps their ids (payments.stripe_objects).
        "UPDATE payments_paymentattempt",  # the Checkout Session, unless a newer attempt began
        "INSERT django_session",  # the new visitor's, without asking if its key is taken
    ]


def test_a_buy_click_of_an_item_in_stock_takes_its_unit_in_one_statement(
    fake_stripe: FakeStripe, settings: Any
) -> None:
    """Stock tracked: one conditional UPDATE checks and takes the unit, and the order's rows,
    with an INSERT recording the unit, are written only if it did: nothing else happens before
    the commit, so the item's row is locked as briefly as can be."""
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    item = ItemFactory.create(stock=1000)
    captured = _first_click(f"/buy/{item.pk}")
    assert _statements(captured) == [
        "SELECT catalog_item",
        "UPDATE catalog_item",  # reserved + 1 WHERE stock - reserved >= 1
        "INSERT orders_order",
        "INSERT orders_orderstatuschange",
        "INSERT orders_orderline",
        "INSERT payments_paymentattempt",
        "INSERT orders_reservation",
        "UPDATE payments_paymentattempt",
        "INSERT django_session",
    ]
    sql = [query["sql"] for query in captured.captured_queries]
    taken = next(n for n, statement in enumerate(sql) if "UPDATE catalog_item" in statement)
    # The transaction ends once the rows are in (a savepoint's release here, the test being one
    # transaction; a server's click sends its COMMIT with the statement, on PostgreSQL).
    after = [statement.split()[0] for statement in sql[taken + 1 :]]
    ended = next(n for n, verb in enumerate(after) if verb in ("COMMIT", "RELEASE"))
    assert set(after[:ended]) <= {"INSERT"}  # the rows' own, on SQLite
    if connection.vendor == "postgresql":
        # The order's five rows and the unit taken: one statement, one round trip.
        assert sql[taken].startswith("WITH")
        assert sql[taken].count("INSERT INTO") == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("stock", "clear_of_low"), [(1000, True), (4, False)])
def test_a_buy_click_takes_its_unit_with_the_commit_only_clear_of_low_stock(
    fake_stripe: FakeStripe, settings: Any, stock: int, clear_of_low: bool
) -> None:
    """On a server (the click's transaction the outermost), the statement taking the unit
    carries the COMMIT on PostgreSQL, and takes it only if the item stays clear of "low"
    (SHOP_LOW_STOCK 5 here). Else the unit is taken by a second statement, in a transaction
    that writes what "low" changes too (the pages' revision, the stock event) before its end."""
    settings.SHOP_LOW_STOCK = 5
    item = ItemFactory.create(stock=stock)
    with CaptureQueriesContext(connection) as captured:
        assert Client().get(f"/buy/{item.pk}").status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    takes = [statement for statement in sql if "UPDATE catalog_item" in statement]
    on_postgresql = connection.vendor == "postgresql"
    assert len(takes) == (1 if clear_of_low else 2)
    assert takes[0].endswith("; COMMIT") is on_postgresql
    assert not takes[-1].endswith("; COMMIT") or clear_of_low
    bumped = any("UPDATE" in s and "catalog_catalogrevision" in s for s in sql)
    assert bumped is not clear_of_low  # low after it: the pages' copies retired
    assert Item.objects.values_list("reserved", flat=True).get(pk=item.pk) == 1
    assert Order.objects.get().status == Order.Status.PENDING


@pytest.mark.django_db(transaction=True)
def test_a_first_buy_click_on_a_server_is_four_round_trips_to_postgresql(
    fake_stripe: FakeStripe, settings: Any
) -> None:
    """On PostgreSQL, with the click's transaction the outermost (as on a server): the item,
    the rows with the unit taken (one statement, its own transaction: no BEGIN or COMMIT of
    its own), the Checkout Session's id, the session. Each round trip costs the server about as
    much CPU as the database's work on it, and the item's row is locked for just one."""
    if connection.vendor != "postgresql":
        pytest.skip("round trips on the wire: PostgreSQL's (SQLite has none)")
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    item = ItemFactory.create(stock=1000)
    assert Client().get(f"/buy/{item.pk}").status_code == 200

    with wire(connection) as sent:
        assert Client().get(f"/buy/{item.pk}").status_code == 200

    assert not sent.sent("BEGIN")
    assert sent.round_trips == 4
    assert Item.objects.values_list("reserved", flat=True).get(pk=item.pk) == 2
