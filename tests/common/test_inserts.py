"""`insert` writes the row `save()` would: the same values in every column, read back from the
database, for each model the Buy click writes with it."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from kassa.common.inserts import insert
from kassa.orders.models import Order, OrderLine, OrderStatusChange
from kassa.payments.models import PaymentAttempt
from tests.factories import ItemFactory

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
