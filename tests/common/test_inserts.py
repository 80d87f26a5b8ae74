"""`insert` writes the row `save()` would: the same values in every column, read back from the
database, for each model the Buy click writes with it; `Together` writes them so at once."""

from collections.abc import Callable
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

import pytest
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    models,
    transaction,
)
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kassa.catalog.models import Item
from kassa.common import inserts
from kassa.common.inserts import Together, insert
from kassa.orders.models import Order, OrderLine, OrderStatusChange, Reservation
from kassa.payments.models import PaymentAttempt
from tests.factories import ItemFactory
from tests.postgres import Wire, end_its_backend, wire

pytestmark = pytest.mark.django_db

# Set by the database or the clock as each row is written: compared by kind, not value.
WRITTEN_AT_THE_TIME = {"id", "created_at", "updated_at", "at", "opened_at"}


def _row(obj: models.Model) -> dict[str, Any]:
    row = type(obj)._default_manager.filter(pk=obj.pk).values().get()
    return {key: value for key, value in row.items() if key not in WRITTEN_AT_THE_TIME}


def _both(make: Callable[[], models.Model]) -> tuple[models.Model, models.Model]:
    saved = make()
    saved.save(force_insert=True)
    inserted = make()
    insert(inserted)
    return saved, inserted


def _order() -> Order:
    return Order(
        currency="usd",
        visitor_token="a" * 32,
        status=Order.Status.PENDING,
        placed_from="203.0.113.0/24",
        language="ru",
        email="buyer@example.com",
        amount_paid=None,
    )


def test_an_order_is_written_as_save_writes_it() -> None:
    saved, inserted = _both(_order)

    assert inserted.pk is not None
    assert inserted.pk != saved.pk
    assert not inserted._state.adding
    assert _row(inserted) == _row(saved)
    fresh = Order.objects.get(pk=inserted.pk)
    assert fresh.created_at is not None
    assert abs(fresh.created_at - timezone.now()).total_seconds() < 60


def test_a_line_a_status_change_and_an_attempt_are_written_as_save_writes_them() -> None:
    item = ItemFactory.create(price=Decimal("12.345"))
    makers: list[Callable[[Order], models.Model]] = [
        lambda order: OrderLine(order=order, item=item, quantity=3, unit_price=item.price),
        lambda order: OrderStatusChange(
            order=order, from_status="open", to_status="pending", source="checkout started"
        ),
        lambda order: PaymentAttempt(
            order=order, number=1, kind="checkout_session", account="acct", currency="usd"
        ),
    ]
    for make in makers:
        one, other = _order(), _order()
        one.save()
        other.save()
        saved = make(one)
        saved.save(force_insert=True)
        inserted = make(other)
        insert(inserted)
        assert inserted.pk is not None
        assert {**_row(inserted), "order_id": one.pk} == _row(saved)


def test_a_value_sql_cannot_hold_is_left_to_save() -> None:
    """A database default not given a value is compiled by the ORM: `insert` hands it on."""
    order = _order()
    order.email = models.Value("from-an-expression@example.com")

    insert(order)

    assert Order.objects.get(pk=order.pk).email == "from-an-expression@example.com"


UNTIL = timezone.now()


def _buy_rows(item: Item, *, ends_transaction: bool = False) -> tuple[Together, list[models.Model]]:
    """A Buy click's rows, each pointing at the order before it is written."""
    order = _order()
    made: list[models.Model] = [
        order,
        OrderStatusChange(
            order=order, from_status="open", to_status="pending", source="checkout started"
        ),
        OrderLine(order=order, item=item, quantity=2, unit_price=item.price),
        PaymentAttempt(
            order=order, number=1, kind="checkout_session", account="acct", currency="usd"
        ),
        Reservation(order=order, item_id=item.pk, quantity=2, reserved_until=UNTIL),
    ]
    rows = Together(ends_transaction=ends_transaction)
    for obj in made:
        rows.add(obj)
    return rows, made


def _take(item: Item, quantity: int) -> tuple[str, list[Any]]:
    return (
        "UPDATE catalog_item SET reserved = reserved + %s"
        " WHERE id = %s AND stock - reserved >= %s RETURNING stock, reserved",
        [quantity, item.pk, quantity],
    )


def test_rows_written_together_are_the_rows_save_writes_and_point_at_each_other() -> None:
    item = ItemFactory.create(price=Decimal("12.345"), stock=5)
    rows, together = _buy_rows(item)
    _, saved = _buy_rows(item)
    order = saved[0]
    for obj in saved:
        if obj is not order:
            obj.order = order  # type: ignore[attr-defined]  # now it has its id
        obj.save(force_insert=True)

    assert rows.write(then=_take(item, 2)) == (5, 2)

    written_order = together[0]
    assert written_order.pk is not None
    for ours, theirs in zip(together, saved, strict=True):
        assert ours.pk is not None
        assert not ours._state.adding
        if ours is not written_order:
            assert ours.order_id == written_order.pk  # type: ignore[attr-defined]
        assert {**_row(ours), "order_id": order.pk} == {**_row(theirs), "order_id": order.pk}
    assert Item.objects.values_list("reserved", flat=True).get(pk=item.pk) == 2


def test_rows_and_their_update_are_one_statement_where_the_database_allows() -> None:
    """On PostgreSQL one round trip (a data-modifying WITH); on SQLite one statement a row."""
    item = ItemFactory.create(stock=5)
    rows, made = _buy_rows(item)

    with CaptureQueriesContext(connection) as statements:
        rows.write(then=_take(item, 2))

    one_each = len(made) + 1
    assert len(statements) == (1 if connection.vendor == "postgresql" else one_each)
    assert Reservation.objects.filter(order_id=made[0].pk).count() == 1


def test_a_buy_clicks_statement_is_one_psycopg_keeps_the_parsing_of() -> None:
    """psycopg parses a statement for its placeholders again on every execution unless it has
    at most 50 parameters and 4,096 characters (psycopg._queries); the Buy click's rows, whose
    fields are mostly empty, stay under both, with their empty values written in the SQL."""
    if connection.vendor != "postgresql":
        pytest.skip("one statement for all the rows on PostgreSQL only")
    item = ItemFactory.create(stock=5)
    sent: list[tuple[str, int]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append((sql, len(params or ())))
        return execute(sql, params, many, context)

    statements = []
    for _ in range(2):
        rows, made = _buy_rows(item)
        with connection.execute_wrapper(record):
            rows.write(then=_take(item, 1))
        (statement,) = sent
        sent.clear()
        statements.append(statement)
        assert Reservation.objects.filter(order_id=made[0].pk).count() == 1

    sql, parameters = statements[0]
    assert parameters <= 50
    assert len(sql.encode()) <= 4096
    assert statements[1] == statements[0]  # the same text: what psycopg keeps is found again


def test_the_statements_kept_stay_few_whatever_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty value is part of the statement's text, so each set of empty fields is a
    statement of its own: the process keeps a bounded number of them."""
    monkeypatch.setattr(inserts, "_WITHS_KEPT", 3)
    monkeypatch.setattr(inserts, "_withs", {})
    item = ItemFactory.create(stock=10)
    for email, phone, name in [
        ("", "", ""),
        ("a@example.com", "", ""),
        ("", "+1", ""),
        ("", "", "Ann"),
        ("a@example.com", "+1", "Ann"),
    ]:
        rows, made = _buy_rows(item)
        order = made[0]
        order.email, order.phone, order.shipping_name = email, phone, name  # type: ignore[attr-defined]
        rows.write(then=_take(item, 1))
        assert len(inserts._withs) <= 3
        written = Order.objects.values_list("email", "phone", "shipping_name").get(pk=order.pk)
        assert written == (email, phone, name)


def test_rows_wait_for_an_update_that_matches_nothing() -> None:
    """Short of stock, nothing is written (so nothing is to undo); the rows wait, and a write
    without the UPDATE writes them (an item no longer tracked since it was read)."""
    item = ItemFactory.create(stock=1)
    rows, made = _buy_rows(item)

    assert rows.write(then=_take(item, 2)) is None

    assert not Order.objects.exists()
    assert not Reservation.objects.exists()
    assert made[0].pk is None
    assert Item.objects.values_list("reserved", flat=True).get(pk=item.pk) == 0
    assert rows.discard(made[-1])
    rows.write()
    assert made[0].pk is not None
    assert Order.objects.filter(pk=made[0].pk).exists()
    assert not Reservation.objects.exists()


def test_rows_added_after_a_write_point_at_the_rows_written() -> None:
    item, other = ItemFactory.create(stock=None), ItemFactory.create(stock=None)
    rows, made = _buy_rows(item)
    rows.write()
    order = made[0]
    assert isinstance(order, Order)
    later = OrderLine(order=order, item=other, quantity=1, unit_price=other.price)
    rows.add(later)
    written: list[str] = []
    rows.when_written(lambda: written.append(f"line {later.pk}"))

    assert rows.write() is None

    assert later.order_id == order.pk
    assert written == [f"line {later.pk}"]
    assert OrderLine.objects.filter(order_id=order.pk).count() == 2


def test_rows_with_a_value_for_the_orm_to_compile_are_written_one_by_one() -> None:
    item = ItemFactory.create(stock=None)
    rows, made = _buy_rows(item)
    made[0].email = models.Value("from-an-expression@example.com")  # type: ignore[attr-defined]

    rows.write()

    assert Order.objects.get(pk=made[0].pk).email == "from-an-expression@example.com"
    assert OrderLine.objects.get(order_id=made[0].pk).quantity == 2


class Ended:
    """What a transaction's block sent (on PostgreSQL), and whether another connection saw the
    order before the block ended (never on SQLite, where a writing transaction keeps other
    connections out)."""

    def __init__(self, sent: Wire | None, seen: bool) -> None:
        self.round_trips = sent.round_trips if sent else 0
        self.began = bool(sent and sent.sent("BEGIN"))
        self.commit_with_statement = bool(sent and '; COMMIT"' in sent.text)
        self.seen = seen


def _ended_here(write: Callable[[], object], order: models.Model, *, before: str = "") -> Ended:
    """Run `write` in the outermost transaction's block (after the query `before`, if any)."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    on_postgresql = connection.vendor == "postgresql"
    try:
        with (
            wire(connection) if on_postgresql else nullcontext() as sent,
            transaction.atomic(),
        ):
            if before:
                with connection.cursor() as cursor:
                    cursor.execute(before)
            write()
            seen = False
            if on_postgresql:
                with other.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM orders_order WHERE id = %s", [order.pk])
                    seen = cursor.fetchone()[0] == 1
        return Ended(sent, seen)
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_the_last_write_is_its_own_transaction_on_postgresql() -> None:
    """The item's row the UPDATE locks is free as the statement's answer arrives, and nothing
    came before it in the block: the statement runs as a transaction of its own, one round trip
    with neither BEGIN nor COMMIT (PostgreSQL). SQLite commits when the block ends, as ever."""
    item = ItemFactory.create(stock=5)
    rows, made = _buy_rows(item, ends_transaction=True)

    autocommit: list[bool] = []

    def write() -> None:
        rows.write(then=_take(item, 2), last=True)
        if connection.vendor == "postgresql":
            autocommit.append(connection.connection.autocommit)

    ended = _ended_here(write, made[0])

    assert ended.seen == (connection.vendor == "postgresql")
    if connection.vendor == "postgresql":
        assert (ended.round_trips, ended.began, ended.commit_with_statement) == (1, False, False)
        assert autocommit == [False]  # the block's, given back as it was
    assert rows.committed == (connection.vendor == "postgresql")
    assert Reservation.objects.get().order_id == made[0].pk
    assert Item.objects.values_list("reserved", flat=True).get(pk=item.pk) == 2


@pytest.mark.django_db(transaction=True)
def test_after_a_query_the_last_write_sends_the_commit_in_its_own_round_trip() -> None:
    item = ItemFactory.create(stock=5)
    rows, made = _buy_rows(item, ends_transaction=True)

    ended = _ended_here(
        lambda: rows.write(then=_take(item, 2), last=True), made[0], before="SELECT 1"
    )

    assert ended.seen == (connection.vendor == "postgresql")
    if connection.vendor == "postgresql":
        # BEGIN, the query, the statement and its COMMIT: three round trips, none at the end.
        assert (ended.round_trips, ended.began, ended.commit_with_statement) == (3, True, True)
    assert Reservation.objects.get().order_id == made[0].pk


@pytest.mark.django_db(transaction=True)
def test_a_write_ends_the_transaction_only_when_told_it_is_the_last_and_nothing_came_before() -> (
    None
):
    item = ItemFactory.create(stock=5)
    for last, before in ((False, False), (True, True)):
        rows, made = _buy_rows(item, ends_transaction=True)

        def write(rows: Together = rows, last: bool = last, before: bool = before) -> None:
            if before:
                rows.write()  # a sale's use is held by the order's id: written first
            rows.write(then=_take(item, 1), last=last)

        ended = _ended_here(write, made[0])
        assert (ended.seen, ended.commit_with_statement, rows.committed) == (False, False, False)
        assert ended.began == (connection.vendor == "postgresql")
        assert Order.objects.filter(pk=made[0].pk).exists()


def test_a_write_inside_an_outer_transaction_leaves_it_to_commit() -> None:
    """Here the test's own transaction is outermost: the rows' block is a savepoint."""
    item = ItemFactory.create(stock=5)
    rows, made = _buy_rows(item, ends_transaction=True)

    with transaction.atomic(), CaptureQueriesContext(connection) as statements:
        rows.write(then=_take(item, 1), last=True)

    assert not any("COMMIT" in query["sql"] for query in statements)
    assert not rows.committed
    assert Order.objects.filter(pk=made[0].pk).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("before", "ends"), [("", True), ("SELECT 1", False)])
def test_where_queries_are_prepared_one_statement_each_no_commit_goes_with_one(
    settings: Any, before: str, ends: bool
) -> None:
    """`?server_side_binding=true` prepares each query, and a prepared query holds one
    statement: a statement alone in its transaction still is the transaction, but a COMMIT
    after another query is left to the block's end."""
    item = ItemFactory.create(stock=5)
    rows, made = _buy_rows(item, ends_transaction=True)
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options["server_side_binding"] = True
    try:
        ended = _ended_here(
            lambda: rows.write(then=_take(item, 1), last=True), made[0], before=before
        )
    finally:
        del options["server_side_binding"]
    on_postgresql = connection.vendor == "postgresql"
    assert (ended.seen, rows.committed) == (ends and on_postgresql, ends and on_postgresql)
    assert not ended.commit_with_statement
    assert Order.objects.filter(pk=made[0].pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_statement_refused_alone_leaves_nothing_and_the_connection_as_it_was() -> None:
    """A refused statement run as its own transaction wrote nothing, and the connection goes on
    in Django's transactions (autocommit off again inside the next block)."""
    item = ItemFactory.create(stock=5)
    rows, made = _buy_rows(item, ends_transaction=True)
    made[-1].item_id = item.pk + 1000  # type: ignore[attr-defined]  # no such item

    with pytest.raises(IntegrityError), transaction.atomic():
        rows.write(then=_take(item, 2), last=True)

    assert not Order.objects.exists()
    assert Item.objects.values_list("reserved", flat=True).get(pk=item.pk) == 0
    with transaction.atomic():
        ItemFactory.create()
        if connection.vendor == "postgresql":
            assert connection.connection.autocommit is False


@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_in_a_statement_run_alone_raises_its_own_error() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a statement run alone is PostgreSQL's (SQLite writes one by one)")
    item = ItemFactory.create(stock=5)
    rows, _ = _buy_rows(item, ends_transaction=True)
    end_its_backend(connection)
    try:
        with pytest.raises(OperationalError), transaction.atomic():
            rows.write(then=_take(item, 2), last=True)
    finally:
        connection.close()
    assert Item.objects.values_list("reserved", flat=True).get(pk=item.pk) == 0
