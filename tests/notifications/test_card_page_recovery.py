"""The card page's "tell me about offers" box: recorded on the order's PaymentIntent as
Checkout's promotions consent is on its session, so a card-page checkout left unpaid gets the
same one reminder, and none without the box ticked or once paid."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.notifications.models import Mail
from kassa.orders.models import Order, Reservation
from kassa.payments.reconcile import reconcile_pending
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, run_worker, smtp
from tests.notifications.test_recovery import reminders
from tests.stripe_events import WEBHOOK_SECRET

__all__ = ["smtp"]  # the fixture, for the tests below
pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"Accept": "application/json"}


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_PUBLIC_URL = "https://shop.example"
    settings.SHOP_RECOVERY_DELAY = 0
    settings.SHOP_COLLECT_PHONE = False
    return fake_stripe


def on_the_card_page(shop: FakeStripe, *, offers: bool) -> tuple[Order, str]:
    """A customer gives their details on the card page, the box ticked or not, and leaves."""
    client = Client()
    item = ItemFactory.create(name="Mug", price=Decimal("12.50"), stock=5, requires_shipping=False)
    added = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": 2}, headers=JSON)
    order = Order.objects.get(pk=added.json()["id"])
    secret = client.post(f"/orders/{order.pk}/payment-intent/", headers=JSON).json()
    intent = secret["client_secret"].split("_secret_")[0]
    fields = {"email": "ana@example.com", "name": "Ana"} | ({"offers": "on"} if offers else {})
    sent = client.post(f"/orders/{order.pk}/payment-details/", fields, headers=JSON)
    assert sent.status_code == 200, sent.content
    return order, intent


def lapse(order: Order) -> None:
    """The order's stock reservation runs out, and reconciliation (run twice) finds it."""
    Reservation.objects.filter(order=order).update(
        reserved_until=timezone.now() - timedelta(minutes=1)
    )
    reconcile_pending(older_than=timedelta(0))
    reconcile_pending(older_than=timedelta(0))


def test_the_box_is_recorded_and_an_abandoned_card_checkout_gets_one_reminder(
    shop: FakeStripe, smtp: SMTPServer
) -> None:
    order, intent = on_the_card_page(shop, offers=True)
    assert shop.resources.payment_intents[intent]["metadata"]["promotions_consent"] == "opt_in"

    lapse(order)
    run_worker()

    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert shop.resources.payment_intents[intent]["status"] == "canceled"
    assert order.recovery_email == "ana@example.com"
    [reminder] = reminders(smtp)
    assert reminder["X-Envelope-To"] == "ana@example.com"
    assert Mail.objects.filter(kind=Mail.Kind.RECOVERY).count() == 1


def test_no_reminder_without_the_box(shop: FakeStripe, smtp: SMTPServer) -> None:
    order, intent = on_the_card_page(shop, offers=False)
    assert "promotions_consent" not in shop.resources.payment_intents[intent]["metadata"]

    lapse(order)
    run_worker()

    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert order.recovery_offered_at is None
    assert reminders(smtp) == []


def test_no_reminder_when_it_was_paid_after_all(shop: FakeStripe, smtp: SMTPServer) -> None:
    order, intent = on_the_card_page(shop, offers=True)
    shop.resources.succeed_payment_intent(intent)  # its webhook is late

    lapse(order)
    run_worker()

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.recovery_offered_at is None
    assert reminders(smtp) == []
