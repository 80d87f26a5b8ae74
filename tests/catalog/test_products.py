"""Products and their variants: every item has a product, variants are told apart by their
options, the migration gives existing items a product each, and off sale means all variants."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from kassa.catalog import services
from kassa.catalog.models import Item, Product
from tests.factories import ItemFactory, product_with_variants

pytestmark = pytest.mark.django_db


def test_an_item_of_its_own_becomes_a_product_of_one_variant() -> None:
    item = ItemFactory.create(name="Брусничное варенье", description="Jam.")
    product = item.product
    assert product is not None
    assert (product.name, product.description) == ("Брусничное варенье", "Jam.")
    assert product.handle == "brusnichnoe-varene"
    assert list(product.variants.all()) == [item]
    # Editing the item edits the product it is the one variant of.
    item.name = "Cloudberry jam"
    item.save()
    product.refresh_from_db()
    assert product.name == "Cloudberry jam"


def test_handles_are_unique() -> None:
    first, second = ItemFactory.create(name="Mug"), ItemFactory.create(name="Mug")
    assert first.product
    assert second.product
    assert (first.product.handle, second.product.handle) == ("mug", "mug-2")


def test_the_migration_gives_every_existing_item_a_product() -> None:
    from importlib import import_module

    migration = import_module("kassa.catalog.migrations.0009_every_item_a_product")
    items = Item.objects.bulk_create(
        [Item(name="Kettle", price=Decimal("5")), Item(name="Kettle", price=Decimal("6"))]
    )
    assert all(i.product_id is None for i in Item.objects.filter(pk__in=[i.pk for i in items]))

    migration.forwards(apps, None)

    migrated = list(Item.objects.filter(pk__in=[i.pk for i in items]).select_related("product"))
    assert sorted(i.product.handle for i in migrated if i.product) == ["kettle", "kettle-2"]
    assert all(i.product and i.product.name == "Kettle" for i in migrated)
    assert {i.price for i in migrated} == {Decimal("5"), Decimal("6")}  # nothing else changed


def test_a_variant_fills_its_products_options_and_differs_from_its_siblings() -> None:
    product, [small_red, *_] = product_with_variants(
        options={"Size": ["S", "M"], "Colour": ["Red"]}
    )

    missing = Item(product=product, name="x", price=Decimal("1"), option1="L")
    with pytest.raises(ValidationError, match="give its value"):
        missing.full_clean()
    extra = Item(
        product=product, name="x", price=Decimal("1"), option1="L", option2="Red", option3="Cotton"
    )
    with pytest.raises(ValidationError, match="no such option"):
        extra.full_clean()
    twin = Item(product=product, name="x", price=Decimal("1"), option1="S", option2="Red")
    with pytest.raises(ValidationError, match="these option values"):
        twin.full_clean()
    other_currency = Item(
        product=product, name="x", price=Decimal("1"), currency="eur", option1="L", option2="Red"
    )
    with pytest.raises(ValidationError, match="another currency"):
        other_currency.full_clean()
    small_red.full_clean()  # itself is no twin


def test_a_product_without_options_has_one_variant() -> None:
    item = ItemFactory.create()
    second = Item(product=item.product, name="Another", price=Decimal("1"))
    with pytest.raises(ValidationError, match="one variant"):
        second.full_clean()


def test_product_options_are_filled_in_order() -> None:
    product = Product(name="Odd", handle="odd", option2_name="Colour")
    with pytest.raises(ValidationError, match="in order"):
        product.full_clean()
    product = Product(name="Odd", handle="odd", option1_name="Size", option2_name="size")
    with pytest.raises(ValidationError, match="same name"):
        product.full_clean()


def test_taking_a_product_off_sale_takes_its_variants_with_it() -> None:
    product, variants = product_with_variants()
    product.is_active = False
    services.product_save(product=product)
    assert not Item.objects.filter(pk__in=[v.pk for v in variants], is_active=True).exists()
    product.is_active = True
    services.product_save(product=product)
    assert Item.objects.filter(pk__in=[v.pk for v in variants], is_active=True).count() == 4
