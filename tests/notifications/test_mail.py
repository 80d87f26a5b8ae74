"""Mail through a real SMTP server: each mail once per order and event, whatever reports it."""

import io
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.notices import notify_staff
from kassa.notifications.models import Mail
from kassa.orders.models import Order, ShippingRate
from kassa.payments.models import PaymentAttempt
from kassa.payments.reconcile import reconcile_pending
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, decoded_subject, part, run_worker, smtp, wait_for
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

__all__ = ["smtp"]  # the fixture, for the tests below
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_PUBLIC_URL = "https://shop.example"
    return fake_stripe


def deliver(evt: dict[str, Any]) -> int:
    return post_event(evt).status_code


def checkout(
    shop: FakeStripe, *, language: str = "en", **paying: Any
) -> tuple[Client, Order, dict[str, Any]]:
    """A customer buys a mug through Checkout and pays; returns the completed session."""
    client = Client(headers={"Accept-Language": language})
    item = ItemFactory.create(name="Mug", price=Decimal("12.50"))
    body = client.get(f"/buy/{item.pk}").json()
    order = Order.objects.get(pk=body["order_id"])
    session = shop.resources.complete_checkout_session(body["id"], **paying)
    return client, order, session


def confirmations(server: SMTPServer) -> list[Any]:
    return [m for m in server.inbox.messages if m["X-Envelope-To"] == "buyer@example.com"]


def staff_notices(server: SMTPServer) -> list[Any]:
    return [m for m in server.inbox.messages if m["X-Envelope-To"] == "staff@kassa.example"]


@pytest.mark.parametrize("first", ["webhook", "success page", "reconciliation"])
def test_every_report_of_a_payment_sends_one_confirmation_and_one_staff_notice(
    shop: FakeStripe, smtp: SMTPServer, first: str
) -> None:
    client, order, session = checkout(shop)
    completed = event("checkout.session.completed", session)
    reports = {
        "webhook": lambda: deliver(completed),
        "success page": lambda: client.get(f"/checkout/success/?session_id={session['id']}"),
        "reconciliation": lambda: reconcile_pending(older_than=timedelta(0), per_second=0),
    }
    reports[first]()
    run_worker()  # the first report's mail may go before the others arrive
    for _ in range(3):
        deliver(completed)
    deliver(event("checkout.session.completed", session))  # Stripe's retry: a new event id
    intent = shop.resources.payment_intents[session["payment_intent"]]
    deliver(event("payment_intent.succeeded", intent))
    client.get(f"/checkout/success/?session_id={session['id']}")
    reconcile_pending(older_than=timedelta(0), per_second=0)
    run_worker()

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert len(confirmations(smtp)) == 1
    assert len(staff_notices(smtp)) == 1
    assert Mail.objects.filter(order=order).count() == 2
    assert set(Mail.objects.values_list("state", flat=True)) == {Mail.State.SENT}


def test_the_confirmation_says_what_was_bought_where_it_goes_and_links_the_order(
    shop: FakeStripe, smtp: SMTPServer
) -> None:
    ShippingRate.objects.create(name="Courier", amount=Decimal("4.00"), currency="usd")
    _, order, session = checkout(shop)
    deliver(event("checkout.session.completed", session))
    run_worker()

    [mail] = confirmations(smtp)
    assert decoded_subject(mail) == f"Your order #{order.pk} is paid"
    text, html = part(mail, "text/plain"), part(mail, "text/html")
    for body in (text, html):
        assert "Mug" in body
        assert "$16.50" in body  # 12.50 and the courier's 4.00
        assert "Courier" in body
        assert "1 Main St" in body
        assert "Springfield" in body
    link = re.search(r"https://shop\.example/orders/view/[^\s\"<]+/", text)
    assert link is not None
    assert link.group(0) in html
    assert mail["Message-ID"].startswith("<kassa-mail-")


def test_a_russian_customer_gets_russian_mail_and_staff_get_english(
    shop: FakeStripe, smtp: SMTPServer
) -> None:
    _, ru_order, ru_session = checkout(shop, language="ru")
    _, en_order, en_session = checkout(shop, language="en", email="en@example.com")
    assert (ru_order.language, en_order.language) == ("ru", "en")
    deliver(event("checkout.session.completed", ru_session))
    deliver(event("checkout.session.completed", en_session))
    run_worker()

    [russian] = smtp.inbox.with_subject(f"№{ru_order.pk}")
    assert decoded_subject(russian) == f"Ваш заказ №{ru_order.pk} оплачен"
    assert "Спасибо" in part(russian, "text/plain")
    assert "12,50" in part(russian, "text/html")  # money as Russian readers write it
    [english] = smtp.inbox.with_subject(f"Your order #{en_order.pk}")
    assert "Thank you" in part(english, "text/plain")
    assert "$12.50" in part(english, "text/html")
    assert len(smtp.inbox.with_subject("New order #")) == 2


def test_a_mail_server_that_is_down_then_up_gets_each_mail_once(
    shop: FakeStripe, smtp: SMTPServer, settings: SettingsWrapper
) -> None:
    smtp.stop()
    _, order, session = checkout(shop)
    deliver(event("checkout.session.completed", session))
    run_worker()

    waiting = Mail.objects.filter(order=order, state=Mail.State.QUEUED)
    assert waiting.count() == 2
    assert all("Connection refused" in mail.last_error for mail in waiting)
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    staff = Client()
    staff.force_login(admin)
    page = staff.get("/admin/notifications/mail/?unsent=yes").content.decode()
    assert "Connection refused" in page  # what is unsent, and why

    smtp.start()
    smtp.inbox.refuse = True  # up, but refusing for a while
    wait_for(lambda: Mail.objects.filter(last_error__contains="451").count() == 2, then=run_worker)
    smtp.inbox.refuse = False
    wait_for(lambda: len(smtp.inbox.messages) >= 2, then=run_worker)
    run_worker()
    assert len(confirmations(smtp)) == 1
    assert len(staff_notices(smtp)) == 1
    assert all(mail.attempts >= 3 for mail in Mail.objects.all())


def test_the_shipped_notice_carries_the_tracking_link(shop: FakeStripe, smtp: SMTPServer) -> None:
    _, order, session = checkout(shop)
    deliver(event("checkout.session.completed", session))
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    staff = Client()
    staff.force_login(admin)
    url = "/admin/orders/order/"
    form = staff.post(url, {"action": "mark_shipped", "_selected_action": [order.pk]})
    assert b"Tracking number" in form.content
    for _ in range(2):  # a double submit ships once and tells the customer once
        staff.post(
            url,
            {
                "action": "mark_shipped",
                "_selected_action": [order.pk],
                "confirm_shipped": "1",
                "carrier": "DHL",
                "tracking_number": "JD0123",
                "tracking_url": "https://track.example/JD0123",
            },
        )
    run_worker()

    order.refresh_from_db()
    assert order.fulfilment_status == Order.Fulfilment.SHIPPED
    [shipped] = smtp.inbox.with_subject("on its way")
    assert "https://track.example/JD0123" in part(shipped, "text/plain")
    assert 'href="https://track.example/JD0123"' in part(shipped, "text/html")
    assert "DHL" in part(shipped, "text/html")

    staff.post(url, {"action": "mark_delivered", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.fulfilment_status == Order.Fulfilment.DELIVERED


def test_a_refund_notice_says_the_amount_once(shop: FakeStripe, smtp: SMTPServer) -> None:
    _, order, session = checkout(shop)
    deliver(event("checkout.session.completed", session))
    charge = next(iter(shop.resources.charges.values()))
    shop.resources.refund(charge["payment_intent"])
    for _ in range(2):
        deliver(event("charge.refunded", charge))
    run_worker()

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    [notice] = smtp.inbox.with_subject(f"A refund for your order #{order.pk}")
    assert "$12.50" in part(notice, "text/plain")


def test_an_order_paid_twice_tells_staff_once(shop: FakeStripe, smtp: SMTPServer) -> None:
    _, order, session = checkout(shop)
    deliver(event("checkout.session.completed", session))
    # A second Checkout Session of the same order, paid in another tab before the first closed.
    second = shop.resources.outside_session(amount_total=1250, currency="usd")
    PaymentAttempt.objects.create(
        order=order,
        number=2,
        kind="checkout_session",
        stripe_id=second["id"],
        currency="usd",
        amount=1250,
        state="closed",
    )
    paid_again = event(
        "checkout.session.completed", shop.resources.complete_checkout_session(second["id"])
    )
    deliver(paid_again)
    deliver(paid_again)
    deliver(event("checkout.session.completed", paid_again["data"]["object"]))
    run_worker()

    [notice] = smtp.inbox.with_subject("was paid twice")
    assert decoded_subject(notice) == f"[Kassa] Order #{order.pk} was paid twice"
    assert second["id"] in part(notice, "text/plain")
    assert notice["X-Envelope-To"] == "staff@kassa.example"
    assert len(confirmations(smtp)) == 1


def test_notify_staff_queues_once_per_key_and_send_queued_mail_sends_it(
    smtp: SMTPServer,
) -> None:
    with transaction.atomic():
        for _ in range(2):
            notify_staff(key="oversold:7", subject="Item 7 oversold", body="Two sold, one left.")
    call_command("send_queued_mail", stdout=io.StringIO())
    [notice] = smtp.inbox.with_subject("oversold")
    assert "Two sold, one left." in part(notice, "text/plain")
    assert Mail.objects.get().state == Mail.State.SENT


def test_without_staff_addresses_no_staff_mail_is_queued(
    shop: FakeStripe, smtp: SMTPServer, settings: SettingsWrapper
) -> None:
    settings.SHOP_STAFF_EMAILS = []
    _, _order, session = checkout(shop)
    deliver(event("checkout.session.completed", session))
    run_worker()
    assert list(Mail.objects.values_list("kind", flat=True)) == [Mail.Kind.CONFIRMATION]
    assert len(smtp.inbox.messages) == 1
