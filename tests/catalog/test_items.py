from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.test import Client

from kassa.catalog import selectors as catalog_selectors
from kassa.catalog.models import Item
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price", Decimal("0")),
        ("price", Decimal("-5")),
        ("price", Decimal("1.234")),
        ("currency", "xxx"),
        ("name", "   "),
        ("name", "x" * 201),
        ("description", "x" * 5001),
    ],
)
def test_item_validation_rejects_bad_values(field: str, value: object) -> None:
    item = Item(name="Mug", description="", price=Decimal("10"), currency="usd")
    setattr(item, field, value)
    with pytest.raises(ValidationError) as excinfo:
        item.full_clean()
    # A name is checked as its main language's column (the admin's field).
    assert {field, f"{field}_en"} & set(excinfo.value.message_dict)


def test_item_validation_follows_the_currency_decimals() -> None:
    Item(name="Yen thing", price=Decimal("1500"), currency="jpy").full_clean()
    with pytest.raises(ValidationError):
        Item(name="Yen thing", price=Decimal("1500.5"), currency="jpy").full_clean()


def test_database_refuses_a_non_positive_price() -> None:
    with pytest.raises(IntegrityError):
        Item.objects.create(name="Free", price=Decimal("0"), currency="usd")


def test_admin_lists_and_searches_items() -> None:
    ItemFactory.create(name="Ceramic mug", price=Decimal("14.50"))
    ItemFactory.create(name="Notebook", currency="eur", price=Decimal("12"))
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests")
    client = Client()
    client.login(username="staff", password="pw-for-tests")

    listing = client.get("/admin/catalog/item/")
    assert listing.status_code == 200
    assert "$14.50" in listing.text
    searched = client.get("/admin/catalog/item/", {"q": "mug"})
    assert "Ceramic mug" in searched.text
    assert "Notebook" not in searched.text
    filtered = client.get("/admin/catalog/item/", {"currency__exact": "eur"})
    assert "Notebook" in filtered.text
    assert "Ceramic mug" not in filtered.text


def test_admin_rejects_a_price_with_too_many_decimals() -> None:
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests")
    client = Client()
    client.login(username="staff", password="pw-for-tests")
    response = client.post(
        "/admin/catalog/item/add/",
        {"name_en": "Odd", "description_en": "", "price": "1.999", "currency": "usd"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "at most 2 decimals" in response.text
    assert not Item.objects.exists()


def test_the_item_a_buy_click_reads_is_the_item_the_orm_reads() -> None:
    """`item_to_buy` makes its Item from the row itself: every field as the ORM gives it and of
    the same type (the price a Decimal, the flags booleans, which SQLite stores as numbers)."""
    made = ItemFactory.create(
        price=Decimal("1234.50"), stock=7, requires_shipping=False, is_active=True, tax_code=""
    )
    read = catalog_selectors.item_to_buy(item_id=made.pk)
    orm = Item.objects.get(pk=made.pk)
    for field in Item._meta.concrete_fields:
        theirs, ours = getattr(orm, field.attname), getattr(read, field.attname)
        assert (ours, type(ours)) == (theirs, type(theirs)), field.name
    assert (read._state.adding, read._state.db) == (False, "default")
    assert read.get_deferred_fields() == set()


def test_buying_an_unknown_item_is_not_found() -> None:
    with pytest.raises(Http404):
        catalog_selectors.item_to_buy(item_id=987654)
