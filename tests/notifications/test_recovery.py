"""A second chance for an unpaid checkout: one reminder, only with consent, never once paid,
its link restoring the cart at today's prices, its unsubscribe link working."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Item
from kassa.notifications.models import Mail, RecoveryOptOut
from kassa.notifications.sending import send
from kassa.orders.models import Order
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.html import csrf_token_in
from tests.mail import SMTPServer, decoded_subject, part, run_worker, smtp
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

__all__ = ["smtp"]  # the fixture, for the tests below
pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"Accept": "application/json"}


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_PUBLIC_URL = "https://shop.example"
    settings.SHOP_RECOVERY_DELAY = 0
    return fake_stripe


def left_unpaid(
    shop: FakeStripe, *, consent: bool = True, language: str = "en"
) -> tuple[Client, Order, Item]:
    """A customer puts a mug in their cart, goes to Checkout, gives their e-mail and leaves;
    the session expires."""
    client = Client(headers={"Accept-Language": language})
    item = ItemFactory.create(name="Mug", price=Decimal("12.50"), stock=5)
    added = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": 2}, headers=JSON)
    order = Order.objects.get(pk=added.json()["id"])
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    session = shop.resources.abandon_checkout_session(session_id, consent=consent)
    assert post_event(event("checkout.session.expired", session)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN  # the stock went back on sale
    return client, order, item


def reminders(server: SMTPServer) -> list[Any]:
    return server.inbox.with_subject("Your cart is waiting")


def link(message: Any, path: str) -> str:
    found = re.search(
        rf"https://shop\.example(/cart/recover/[^\s\"<]+{path})", part(message, "text/plain")
    )
    assert found is not None
    return found.group(1)


def test_checkout_asks_for_consent(shop: FakeStripe) -> None:
    item = ItemFactory.create()
    Client().get(f"/buy/{item.pk}")
    [created] = shop.requests_to("POST", "/v1/checkout/sessions")
    assert created.body["consent_collection"] == {"promotions": "auto"}


def test_one_reminder_brings_the_customer_back_to_the_cart_at_todays_prices(
    shop: FakeStripe, smtp: SMTPServer
) -> None:
    _, order, item = left_unpaid(shop)
    Item.objects.filter(pk=item.pk).update(price=Decimal("11.00"))  # cheaper since
    # Stripe's retry of the same event, and a second expiry: still one reminder.
    [session] = shop.resources.checkout_sessions.values()
    post_event(event("checkout.session.expired", session))
    run_worker()

    [reminder] = reminders(smtp)
    assert reminder["X-Envelope-To"] == "buyer@example.com"
    text = part(reminder, "text/plain")
    assert "2 × Mug: $22.00" in text
    assert Mail.objects.filter(kind=Mail.Kind.RECOVERY).count() == 1

    # Another device: the link opens the cart, priced as now, ready to pay.
    elsewhere = Client()
    response = elsewhere.get(link(reminder, "/"))
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    page = elsewhere.get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert "$22.00" in page.text
    session_id = elsewhere.get(f"/orders/{order.pk}/buy/").json()["id"]
    paid = shop.resources.complete_checkout_session(session_id)
    assert paid["amount_total"] == 2200
    assert post_event(event("checkout.session.completed", paid)).status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID

    # The dashboard counts the checkout recovered, with its revenue.
    User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    staff = Client()
    staff.login(username="boss", password="pw-for-tests-only")
    cache.clear()
    dashboard = staff.get("/admin/").text
    recovered = re.search(r'<p id="recovered">(.*?)</p>', dashboard, re.S)
    assert recovered is not None
    assert re.sub(r"<[^>]+>|\s+", " ", recovered.group(1)).split() == (
        "1 checkout recovered by its reminder in the last 30 days: $22.00".split()
    )


def test_no_reminder_without_consent(shop: FakeStripe, smtp: SMTPServer) -> None:
    _, order, _ = left_unpaid(shop, consent=False)
    run_worker()
    assert reminders(smtp) == []
    assert order.recovery_offered_at is None
    assert not Mail.objects.filter(kind=Mail.Kind.RECOVERY).exists()


def test_no_reminder_once_the_order_is_paid_meanwhile(
    shop: FakeStripe, smtp: SMTPServer, settings: SettingsWrapper
) -> None:
    settings.SHOP_RECOVERY_DELAY = 3600
    client, order, _ = left_unpaid(shop)
    run_worker()
    assert reminders(smtp) == []  # not due for an hour
    mail = Mail.objects.get(kind=Mail.Kind.RECOVERY)
    assert mail.next_attempt_at is not None
    assert mail.next_attempt_at > timezone.now() + timedelta(minutes=59)

    # They come back by themselves in another tab and pay through a new attempt.
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    paid = shop.resources.complete_checkout_session(session_id)
    assert post_event(event("checkout.session.completed", paid)).status_code == 200
    Mail.objects.filter(pk=mail.pk).update(next_attempt_at=timezone.now())  # an hour later
    assert send(mail_id=mail.pk, retry=lambda *_: None) == "cancelled"
    run_worker()
    assert reminders(smtp) == []
    assert Mail.objects.get(pk=mail.pk).state == Mail.State.CANCELLED


def test_the_unsubscribe_link_stops_reminders(shop: FakeStripe, smtp: SMTPServer) -> None:
    _, _, _ = left_unpaid(shop)
    run_worker()
    [reminder] = reminders(smtp)
    browser = Client()
    path = link(reminder, "/unsubscribe/")
    asked = browser.get(path)
    assert asked.status_code == 200
    assert not RecoveryOptOut.objects.exists()  # following the link alone changes nothing
    done = browser.post(path, {"csrfmiddlewaretoken": csrf_token_in(asked.text)})
    assert 'id="unsubscribed"' in done.text
    assert RecoveryOptOut.objects.filter(email="buyer@example.com").exists()

    # The next cart this address leaves gets no reminder.
    left_unpaid(shop)
    run_worker()
    assert len(reminders(smtp)) == 1


def test_a_tampered_link_is_a_404(shop: FakeStripe) -> None:
    assert Client().get("/cart/recover/1:forged/").status_code == 404
    assert Client().get("/cart/recover/1:forged/unsubscribe/").status_code == 404


def test_a_russian_customer_gets_a_russian_reminder(shop: FakeStripe, smtp: SMTPServer) -> None:
    left_unpaid(shop, language="ru")
    run_worker()
    [reminder] = [m for m in smtp.inbox.messages if m["X-Envelope-To"] == "buyer@example.com"]
    assert decoded_subject(reminder) == "Ваша корзина ждёт вас"
    assert "2 × Mug: 25,00" in part(reminder, "text/html")
