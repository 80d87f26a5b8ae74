"""The default taxes and shipping rates a process keeps (kassa.orders.checkout_defaults): an edit in
the admin reaches new orders once the process reads the catalog revision again, never later."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kassa.catalog import revision
from kassa.orders import checkout_defaults
from kassa.orders.models import Order, ShippingRate, Tax
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


def _rate(**fields: Any) -> ShippingRate:
    return ShippingRate.objects.create(
        **{"name": "Post", "amount": Decimal("4.90"), "currency": "usd", **fields}
    )


def _read_revision_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if CATALOG_PAGE_REFRESH_SECONDS had passed since the process last read it."""
    monkeypatch.setattr(revision, "_seen", ("", float("-inf")))


def test_saving_or_deleting_a_tax_or_a_shipping_rate_changes_the_revision() -> None:
    seen = [revision.current()]
    tax = Tax.objects.create(name="VAT", percentage=Decimal("20"), applies_to_every_order=True)
    seen.append(revision.current())
    tax.percentage = Decimal("10")
    tax.save()
    seen.append(revision.current())
    rate = _rate()
    seen.append(revision.current())
    rate.delete()
    seen.append(revision.current())
    tax.delete()
    seen.append(revision.current())
    assert len(set(seen)) == len(seen)


def test_a_new_default_tax_reaches_buy_now_once_the_revision_is_read_again(
    fake_stripe: FakeStripe, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    item = ItemFactory.create()
    assert Client().get(f"/buy/{item.pk}").status_code == 200  # the process keeps "no tax"
    tax = Tax.objects.create(name="VAT", percentage=Decimal("20"), applies_to_every_order=True)

    assert Client().get(f"/buy/{item.pk}").status_code == 200
    within = Order.objects.latest("id")
    _read_revision_now(monkeypatch)
    assert Client().get(f"/buy/{item.pk}").status_code == 200
    after = Order.objects.latest("id")

    assert within.tax_id is None  # inside CATALOG_PAGE_REFRESH_SECONDS: the kept terms
    assert after.tax_id == tax.pk


def test_a_rate_switched_off_leaves_the_options_and_a_new_one_joins() -> None:
    post, courier = _rate(name="Post"), _rate(name="Courier", amount=Decimal("9.00"))
    assert [
        o.rate.name for o in checkout_defaults.options_for(currency="usd", goods_total=100)
    ] == [
        "Post",
        "Courier",
    ]
    post.active = False
    post.save()
    _rate(name="Free pickup", amount=Decimal("0"))
    _rate(name="Euro post", currency="eur")
    options = checkout_defaults.options_for(currency="usd", goods_total=100)
    assert [(o.rate.name, o.amount) for o in options] == [("Free pickup", 0), ("Courier", 900)]
    assert courier.pk in {o.rate.pk for o in options}


def test_the_kept_terms_are_read_once_per_revision(settings: Any) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 60
    Tax.objects.create(name="VAT", percentage=Decimal("20"), applies_to_every_order=True)
    _rate()
    checkout_defaults.default_tax("usd")  # reads the revision and the terms
    with CaptureQueriesContext(connection) as captured:
        for _ in range(5):
            assert checkout_defaults.default_tax("usd") is not None
            assert len(checkout_defaults.options_for(currency="usd", goods_total=0)) == 1
    assert len(captured) == 0


def test_held_the_revision_is_read_once_and_again_after_a_change_made_inside() -> None:
    """As a list of carts prices them: every look reads the revision (the tests' settings), but
    once while held; a change made while held is seen by the next look."""
    Tax.objects.create(name="VAT", percentage=Decimal("20"), applies_to_every_order=True)
    checkout_defaults.default_tax("usd")
    with revision.held(), CaptureQueriesContext(connection) as captured:
        for _ in range(5):
            assert checkout_defaults.default_tax("usd") is not None
        assert len(captured) == 1
        Tax.objects.update(percentage=Decimal("10"))
        revision.bump()
        tax = checkout_defaults.default_tax("usd")
    assert tax is not None
    assert tax.percentage == Decimal("10")
    with CaptureQueriesContext(connection) as captured:
        checkout_defaults.default_tax("usd")
        checkout_defaults.default_tax("usd")
    assert len(captured) == 2  # not held: a read each time


def test_callers_get_copies_so_no_thread_changes_another_ones_tax() -> None:
    Tax.objects.create(name="VAT", percentage=Decimal("20"), applies_to_every_order=True)
    first = checkout_defaults.default_tax("usd")
    assert first is not None
    first.percentage = Decimal("99")
    again = checkout_defaults.default_tax("usd")
    assert again is not None
    assert again is not first
    assert again.percentage == Decimal("20")


def test_a_currency_s_own_default_tax_wins_over_the_one_for_every_currency() -> None:
    every = Tax.objects.create(name="Any", percentage=Decimal("5"), applies_to_every_order=True)
    euro = Tax.objects.create(
        name="EU VAT", percentage=Decimal("21"), applies_to_every_order=True, currency="eur"
    )
    assert (checkout_defaults.default_tax("eur") or Tax()).pk == euro.pk
    assert (checkout_defaults.default_tax("usd") or Tax()).pk == every.pk
    euro.delete()
    assert (checkout_defaults.default_tax("eur") or Tax()).pk == every.pk
