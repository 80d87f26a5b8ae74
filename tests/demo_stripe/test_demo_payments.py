"""Demo payments end to end: the shop's real code paths (stripe-python over HTTP, signed
webhooks) against the stand-in the shop's own server answers as."""

import json
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Item
from kassa.demo_stripe import events
from kassa.demo_stripe.models import DemoObject
from kassa.notifications.models import Mail
from kassa.orders.models import Order
from kassa.payments.models import TaxTransaction, WebhookEvent
from kassa.payments.refunds import refund_order
from tests.factories import ItemFactory
from tests.mail import run_worker

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.1)


def start_checkout(client: Client, item: Item) -> tuple[Order, str]:
    response = client.get(f"/buy/{item.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    return Order.objects.get(pk=body["order_id"]), body["url"]


def details(**extra: str) -> dict[str, str]:
    return {
        "email": "nora@example.com",
        "name": "Nora Newcomer",
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
        "card_number": "4242 4242 4242 4242",
        "action": "pay",
        **extra,
    }


def test_a_checkout_purchase_is_paid_by_the_stand_ins_signed_webhook(demo: str) -> None:
    item = ItemFactory.create(name="Soap", price=Decimal("5.00"), stock=3, requires_shipping=True)
    client = Client()
    order, url = start_checkout(client, item)
    assert url.startswith("http://testserver/demo-stripe/checkout/cs_test_demo")

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Demo Checkout — no money moves" in html
    assert "Soap" in html
    assert "$5.00" in html
    assert 'name="line1"' in html  # the item ships: the address is asked for

    paid = client.post(url, details())

    assert paid.status_code == 302
    assert paid["Location"].startswith("http://testserver/checkout/success/?session_id=cs_test")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_paid == 500
    item.refresh_from_db()
    assert item.stock == 2
    assert order.email == "nora@example.com"
    [event] = WebhookEvent.objects.all()
    assert event.type == "checkout.session.completed"
    assert Mail.objects.filter(order=order, kind=Mail.Kind.CONFIRMATION).exists()
    # The success page reads the same session back through the one door.
    success = client.get(paid["Location"])
    assert success.status_code == 200
    assert "a demo payment: no money moved" in success.text


def test_a_declined_card_keeps_the_checkout_open(demo: str) -> None:
    item = ItemFactory.create(requires_shipping=False)
    client = Client()
    order, url = start_checkout(client, item)

    declined = client.post(url, details(card_number="4000 0000 0000 0002"))

    assert declined.status_code == 400
    assert "Your card was declined" in declined.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not WebhookEvent.objects.exists()
    # And a second card pays.
    assert client.post(url, details()).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_cancel_goes_back_to_the_shop_which_reopens_the_order(demo: str) -> None:
    item = ItemFactory.create(requires_shipping=False, stock=1)
    client = Client()
    order, url = start_checkout(client, item)

    cancelled = client.post(url, {"action": "cancel"})

    assert cancelled.status_code == 302
    back = client.get(cancelled["Location"].removeprefix("http://testserver"))
    assert back.status_code in (200, 302)
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    item.refresh_from_db()
    assert item.available == 1


@pytest.mark.parametrize(("outcome", "status"), [("succeeded", "paid"), ("failed", "open")])
def test_a_pending_payment_settles_later(demo: str, outcome: str, status: str) -> None:
    item = ItemFactory.create(requires_shipping=False)
    client = Client()
    order, url = start_checkout(client, item)

    assert client.post(url, details(action="pending")).status_code == 302
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    session_id = url.rstrip("/").rsplit("/", 1)[1]
    assert "The money arrives" in client.get(url).content.decode()

    settled = client.post(f"/demo-stripe/checkout/{session_id}/settle/", {"outcome": outcome})

    assert settled.status_code == 302
    order.refresh_from_db()
    assert order.status == status
    assert WebhookEvent.objects.filter(type=f"checkout.session.async_payment_{outcome}").exists()


def test_the_card_form_pays_through_the_stand_ins_confirm(demo: str) -> None:
    item = ItemFactory.create(requires_shipping=False, price=Decimal("9.00"))
    client = Client()
    response = client.post(f"/item/{item.pk}/payment-intent", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    secret = response.json()["client_secret"]
    order = Order.objects.get(pk=response.json()["order_id"])

    declined = client.post(
        "/demo-stripe/js/confirm/",
        json.dumps({"client_secret": secret, "card": "4000000000000002"}),
        content_type="application/json",
    )
    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "card_declined"
    wrong = client.post(
        "/demo-stripe/js/confirm/",
        json.dumps({"client_secret": secret + "x", "card": "4242"}),
        content_type="application/json",
    )
    assert wrong.status_code == 404

    paid = client.post(
        "/demo-stripe/js/confirm/",
        json.dumps({"client_secret": secret, "card": "4242 4242 4242 4242"}),
        content_type="application/json",
    )

    assert paid.status_code == 200
    assert paid.json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.amount_paid == 900


def test_a_refund_reaches_the_stand_in_and_its_event_comes_back(
    demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = ItemFactory.create(requires_shipping=False, price=Decimal("8.00"))
    client = Client()
    order, url = start_checkout(client, item)
    client.post(url, details())
    order.refresh_from_db()
    # The event is held until the refund call is over (the test database, SQLite in memory,
    # refuses two writers at once rather than making one wait as a file database does).
    held: list[dict[str, object]] = []
    monkeypatch.setattr(events, "_in_background", held.append)

    refund_order(order_id=order.pk, requested_by="staff", amount=300)

    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert order.amount_refunded == 300
    [event] = held
    assert event["type"] == "charge.refunded"
    assert events.deliver_with_retries(event)
    assert WebhookEvent.objects.filter(type="charge.refunded").exists()
    [charge] = [row.data for row in DemoObject.objects.filter(kind="charge")]
    assert charge["amount_refunded"] == 300


def test_the_api_answers_only_the_demo_key(demo: str) -> None:
    client = Client()
    wrong = client.get("/demo-stripe/v1/checkout/sessions", HTTP_AUTHORIZATION="Bearer sk_other")
    assert wrong.status_code == 401
    missing = client.get(
        "/demo-stripe/v1/checkout/sessions/cs_nope", HTTP_AUTHORIZATION="Bearer sk_test_demo_kassa"
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"


def test_without_demo_payments_the_stand_in_is_not_there(client: Client) -> None:
    # The test settings have demo payments off, as a shop with keys has.
    for path in ("/demo-stripe/", "/demo-stripe/v1/checkout/sessions", "/demo-stripe/js/confirm/"):
        assert client.get(path).status_code == 404
    assert "demo-notice" not in client.get("/").content.decode()


def test_every_page_says_demo(demo: str) -> None:
    item = ItemFactory.create()
    client = Client()
    for path in ("/", f"/item/{item.pk}", "/orders/", "/no-such-page/"):
        assert 'class="demo-notice"' in client.get(path).content.decode(), path


def test_check_deploy_refuses_demo_payments(settings: SettingsWrapper) -> None:
    settings.SHOP_DEMO_PAYMENTS = True
    with pytest.raises(SystemCheckError, match=r"kassa\.E001"):
        call_command("check", deploy=True, fail_level="ERROR")
    settings.SHOP_DEMO_PAYMENTS = False
    call_command("check", "--tag", "security", deploy=True, fail_level="ERROR")


def _settings_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import config.settings as s; print(s.SHOP_DEMO_PAYMENTS, repr(s.STRIPE_API_BASE))"
    # Set here, so a developer's .env cannot decide (the environment wins over it).
    base = {"DJANGO_SECRET_KEY": "k", "PATH": "/usr/bin:/bin", "PORT": "8123", "STRIPE_API_KEY": ""}
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
    )


def test_demo_payments_are_on_exactly_when_no_key_is_set() -> None:
    without = _settings_with({})
    assert without.stdout.split() == ["True", "'http://127.0.0.1:8123/demo-stripe'"]
    with_keys = _settings_with({"STRIPE_API_KEY": "sk_test_x", "STRIPE_PUBLISHABLE_KEY": "pk"})
    assert with_keys.stdout.split() == ["False", "''"]
    per_currency = _settings_with({"STRIPE_API_KEY_EUR": "sk_test_x"})
    assert per_currency.stdout.split()[0] == "False"
    refused = _settings_with({"STRIPE_API_KEY": "sk_live_x", "SHOP_DEMO_PAYMENTS": "true"})
    assert refused.returncode != 0
    assert "never run beside real keys" in refused.stderr


def test_with_stripe_tax_the_card_form_pays_and_records_the_sale(
    demo: str, settings: SettingsWrapper
) -> None:
    # The stand-in is an account with no tax registrations: Stripe Tax adds nothing.
    settings.SHOP_TAX = "stripe"
    item = ItemFactory.create(requires_shipping=False, price=Decimal("9.00"))
    client = Client()
    response = client.post(f"/item/{item.pk}/payment-intent", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    secret = response.json()["client_secret"]
    order = Order.objects.get(pk=response.json()["order_id"])
    fields = {"email": "nora@example.com", "name": "Nora", "line1": "1 Main St"}
    fields |= {"city": "Springfield", "postal_code": "12345", "country": "US"}
    sent = client.post(
        f"/orders/{order.pk}/payment-details/", fields, HTTP_ACCEPT="application/json"
    )
    assert sent.status_code == 200, sent.content
    assert sent.json()["amount"] == 900

    paid = client.post(
        "/demo-stripe/js/confirm/",
        json.dumps({"client_secret": secret, "card": "4242 4242 4242 4242"}),
        content_type="application/json",
    )

    assert paid.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert (order.amount_paid, order.tax_computed_by_stripe, order.tax_amount) == (900, True, 0)
    run_worker()
    [sale] = TaxTransaction.objects.all()
    assert sale.stripe_id.startswith("tax_")
