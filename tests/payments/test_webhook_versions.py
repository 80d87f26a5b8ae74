"""Webhook events come in their endpoint's API version, not the one the client pins: a Checkout
Session rendered in an older shape still gives the order its buyer, address and shipping."""

import logging
from decimal import Decimal

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order, ShippingRate
from kassa.payments.models import UnmatchedPayment
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import (
    PINNED_VERSION,
    WEBHOOK_SECRET,
    event,
    post_event,
    session_in_version,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "US"]
    return fake_stripe


def paid_session(shop: FakeStripe) -> tuple[Order, dict[str, object], ShippingRate]:
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    courier = ShippingRate.objects.create(name="Courier", amount=Decimal("15.00"), currency="usd")
    body = Client().get(f"/buy/{ItemFactory.create(price=Decimal('20.00')).pk}").json()
    session = shop.resources.complete_checkout_session(body["id"], shipping_option=1)
    return Order.objects.get(pk=body["order_id"]), session, courier


# basil moved shipping under collected_information; 2022-08-01 renamed shipping and the rate.
@pytest.mark.parametrize("version", ["2025-02-24.acacia", "2024-06-20", "2020-08-27"])
def test_an_event_in_an_older_version_records_the_address_and_the_shipping(
    shop: FakeStripe, version: str, caplog: pytest.LogCaptureFixture
) -> None:
    order, session, courier = paid_session(shop)
    old = session_in_version(session, version)
    assert "collected_information" not in old  # really in the older shape

    with caplog.at_level(logging.WARNING, logger="kassa.payments.webhooks"):
        assert (
            post_event(event("checkout.session.completed", old, api_version=version)).status_code
            == 200
        )

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not UnmatchedPayment.objects.exists()
    assert order.email == "buyer@example.com"
    assert order.shipping_address_lines == [
        "Ada Buyer",
        "1 Main St",
        "Springfield, IL 12345",
        "United States",
    ]
    assert (order.shipping_rate, order.shipping_amount) == (courier, 1500)
    [warning] = [r for r in caplog.records if r.name == "kassa.payments.webhooks"]
    assert warning.levelno == logging.WARNING
    assert f"API version {version}" in warning.getMessage()
    assert PINNED_VERSION in warning.getMessage()  # the version to set on the endpoint


def test_an_event_in_the_pinned_version_is_not_logged(
    shop: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    order, session, _ = paid_session(shop)
    with caplog.at_level(logging.WARNING, logger="kassa.payments.webhooks"):
        assert post_event(event("checkout.session.completed", session)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.shipping_line1 == "1 Main St"
    assert not [r for r in caplog.records if r.name == "kassa.payments.webhooks"]


def test_an_event_older_than_the_shop_reads_is_logged_as_an_error(
    shop: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    order, session, _ = paid_session(shop)
    old = session_in_version(session, "2019-12-03")
    with caplog.at_level(logging.WARNING, logger="kassa.payments.webhooks"):
        assert (
            post_event(
                event("checkout.session.completed", old, api_version="2019-12-03")
            ).status_code
            == 200
        )
    [error] = [r for r in caplog.records if r.name == "kassa.payments.webhooks"]
    assert error.levelno == logging.ERROR
    assert "older than the shop reads" in error.getMessage()
    # Read as far as it can be: the money is recorded all the same.
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_unhandled_event_in_another_version_is_not_logged(
    shop: FakeStripe, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kassa.payments.webhooks"):
        evt = event("customer.created", {"id": "cus_1"}, api_version="2020-08-27")
        assert post_event(evt).status_code == 200
    assert not [r for r in caplog.records if r.name == "kassa.payments.webhooks"]
