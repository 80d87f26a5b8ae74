"""Every paid order has an invoice: numbered once, without gaps, as a PDF its owner and staff
can download; a refund issues a credit note referring to it."""

import io
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.identity import SETTINGS_ID
from kassa.common.models import ShopSettings
from kassa.invoices.models import Invoice
from kassa.orders import lifecycle
from kassa.orders.links import order_token
from kassa.orders.models import Order
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, part, run_worker, smtp
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

__all__ = ["smtp"]  # the fixture, for the tests below
YEAR = timezone.now().year
JSON = {"Accept": "application/json"}


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_LEGAL_NAME = "Kassa Trading GmbH"
    settings.SHOP_LEGAL_ADDRESS = ["Hauptstraße 1", "10115 Berlin"]
    settings.SHOP_TAX_ID = "DE123456789"
    return fake_stripe


def buy(
    shop: FakeStripe, *, language: str = "en", price: str = "12.50", **order: Any
) -> tuple[Client, Order, dict[str, Any]]:
    """A customer buys a mug through Checkout and pays; the session, not yet reported."""
    client = Client(headers={"Accept-Language": language})
    item = ItemFactory.create(name="Blue mug", price=Decimal(price))
    added = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": 1}, headers=JSON)
    placed = Order.objects.get(pk=added.json()["id"])
    # Staff's discount and tax for the order, set while it is a cart.
    Order.objects.filter(pk=placed.pk).update(**order)
    body = client.get(f"/orders/{placed.pk}/buy/").json()
    session = shop.resources.complete_checkout_session(body["id"])
    return client, placed, session


def paid(shop: FakeStripe, **kwargs: Any) -> tuple[Client, Order]:
    client, order, session = buy(shop, **kwargs)
    assert post_event(event("checkout.session.completed", session)).status_code == 200
    order.refresh_from_db()
    assert order.is_paid
    return client, order


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def staff_client() -> Client:
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    client = Client()
    client.force_login(admin)
    return client


@pytest.mark.django_db
def test_a_paid_order_has_one_numbered_invoice_its_owner_downloads(shop: FakeStripe) -> None:
    client, order = paid(shop)
    _, second = paid(shop)

    [invoice] = order.invoices.all()
    assert invoice.number == f"{YEAR}-000001"
    assert second.invoices.get().number == f"{YEAR}-000002"
    assert invoice.amount == order.amount_paid == 1250

    response = client.get(f"/orders/{order.pk}/invoice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{YEAR}-000001.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)
    for expected in (
        f"Invoice no. {YEAR}-000001",
        "Kassa Trading GmbH",
        "Hauptstraße 1",
        "DE123456789",
        "Ada Buyer",
        "buyer@example.com",
        "Blue mug",
        "$12.50",
        "Total (USD)",
        "Stripe Checkout",
    ):
        assert expected in text, expected
    # The order page links it.
    assert f"/orders/{order.pk}/invoice.pdf" in client.get(f"/orders/{order.pk}/").text


@pytest.mark.django_db
def test_only_the_owner_and_staff_get_the_invoice(shop: FakeStripe) -> None:
    _, order = paid(shop)
    assert Client().get(f"/orders/{order.pk}/invoice.pdf").status_code == 404
    assert Client().get("/orders/999999/invoice.pdf").status_code == 404
    assert Client().get("/orders/abc/invoice.pdf").status_code == 404
    staff = staff_client()
    assert staff.get(f"/orders/{order.pk}/invoice.pdf").status_code == 200
    # The admin's order page lists it with its PDF.
    page = staff.get(f"/admin/orders/order/{order.pk}/change/").text
    assert f"{YEAR}-000001.pdf" in page


@pytest.mark.django_db
def test_an_unpaid_order_has_no_invoice_and_takes_no_number(shop: FakeStripe) -> None:
    client, order, _session = buy(shop)  # paid at Stripe, not reported yet
    assert client.get(f"/orders/{order.pk}/invoice.pdf").status_code == 404
    assert not Invoice.objects.exists()
    paid(shop)
    assert Invoice.objects.get().number == f"{YEAR}-000001"


@pytest.mark.django_db
def test_the_invoice_shows_discount_and_tax_per_rate(shop: FakeStripe) -> None:
    discount = DiscountFactory.create(name="Welcome", percent_off=Decimal("10"))
    tax = TaxFactory.create(name="VAT", percentage=Decimal("20"), inclusive=False)
    client, order = paid(shop, price="50.00", discount=discount, tax=tax)

    text = pdf_text(client.get(f"/orders/{order.pk}/invoice.pdf").content)
    assert "Subtotal" in text
    assert "$50.00" in text
    assert "Discount (Welcome)" in text
    assert "−$5.00" in text
    assert "VAT 20%" in text
    assert "$9.00" in text  # 20% of 45.00
    assert "$54.00" in text  # what Stripe charged
    assert order.amount_paid == 5400


@pytest.mark.django_db
def test_a_refund_issues_a_credit_note_referring_to_the_invoice(shop: FakeStripe) -> None:
    client, order = paid(shop)
    lifecycle.order_mark_refunded(order_id=order.pk, amount_refunded=500, source="re_1")
    lifecycle.order_mark_refunded(order_id=order.pk, amount_refunded=500, source="re_1")
    lifecycle.order_mark_refunded(order_id=order.pk, amount_refunded=1250, source="re_2")

    invoice = order.invoices.get(kind=Invoice.Kind.INVOICE)
    notes = list(order.invoices.filter(kind=Invoice.Kind.CREDIT_NOTE).order_by("sequence"))
    assert [(n.number, n.amount, n.refers_to) for n in notes] == [
        (f"CN-{YEAR}-000001", 500, invoice),
        (f"CN-{YEAR}-000002", 750, invoice),
    ]
    page = client.get(f"/orders/{order.pk}/").text
    assert f"/orders/{order.pk}/credit-notes/{notes[0].pk}.pdf" in page
    response = client.get(f"/orders/{order.pk}/credit-notes/{notes[1].pk}.pdf")
    text = pdf_text(response.content)
    assert f"Credit note no. CN-{YEAR}-000002" in text
    assert f"Refers to invoice no. {YEAR}-000001" in text
    assert "−$7.50" in text
    assert Client().get(f"/orders/{order.pk}/credit-notes/{notes[1].pk}.pdf").status_code == 404
    assert client.get(f"/orders/{order.pk}/credit-notes/{invoice.pk}.pdf").status_code == 404


@pytest.mark.django_db
def test_a_russian_order_gets_a_russian_invoice(shop: FakeStripe) -> None:
    client, order = paid(shop, language="ru")
    assert order.language == "ru"
    text = pdf_text(client.get(f"/orders/{order.pk}/invoice.pdf").content)
    assert f"Счёт № {YEAR}-000001" in text
    assert "Итого (USD)" in text
    assert "12,50" in text


@pytest.mark.django_db
def test_an_issued_invoice_keeps_what_it_said(shop: FakeStripe, settings: SettingsWrapper) -> None:
    client, order = paid(shop)
    settings.SHOP_LEGAL_NAME = "Renamed Ltd"
    order.lines.get().item.__class__.objects.update(name="Renamed mug")
    text = pdf_text(client.get(f"/orders/{order.pk}/invoice.pdf").content)
    assert "Kassa Trading GmbH" in text
    assert "Blue mug" in text
    assert "Renamed" not in text


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_payments_take_fifty_consecutive_numbers(shop: FakeStripe) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are checked in the PostgreSQL pass (make test-postgres)")
    sessions = [buy(shop)[2] for _ in range(50)]
    go = threading.Barrier(len(sessions))
    statuses: list[int] = []

    def report(session: dict[str, Any]) -> None:
        try:
            go.wait()
            statuses.append(post_event(event("checkout.session.completed", session)).status_code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=report, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 50
    assert Order.objects.filter(status=Order.Status.PAID).count() == 50
    sequences = sorted(Invoice.objects.values_list("sequence", flat=True))
    assert sequences == list(range(1, 51))
    assert Invoice.objects.values("order").distinct().count() == 50


@pytest.mark.django_db(transaction=True)
def test_the_confirmation_carries_the_invoice_and_the_refund_notice_its_credit_note(
    shop: FakeStripe, smtp: SMTPServer
) -> None:
    _, order = paid(shop, language="ru")
    run_worker()
    [confirmation] = smtp.inbox.with_subject(f"№{order.pk}")
    assert f"Счёт приложен к письму (счёт № {YEAR}-000001)" in part(confirmation, "text/plain")
    name, content = attachment(confirmation)
    assert name == f"{YEAR}-000001.pdf"
    assert f"Счёт № {YEAR}-000001" in pdf_text(content)

    lifecycle.order_mark_refunded(order_id=order.pk, amount_refunded=1250, source="re_1")
    run_worker()
    [refund] = [
        m
        for m in smtp.inbox.messages
        if m["X-Envelope-To"] == "buyer@example.com" and m is not confirmation
    ]
    name, content = attachment(refund)
    assert name == f"CN-{YEAR}-000001.pdf"
    assert f"К счёту № {YEAR}-000001" in pdf_text(content)


def attachment(message: Any) -> tuple[str, bytes]:
    [found] = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    payload = found.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return found.get_filename(), payload


@pytest.mark.django_db
def test_the_mails_signed_link_gets_the_invoice_on_any_device(shop: FakeStripe) -> None:
    _, order = paid(shop)
    token = order_token(order)
    page = Client().get(f"/orders/view/{token}/")
    assert f"/orders/view/{token}/invoice.pdf" in page.text
    response = Client().get(f"/orders/view/{token}/invoice.pdf")
    assert response.status_code == 200
    assert f"Invoice no. {YEAR}-000001" in pdf_text(response.content)
    assert Client().get("/orders/view/1:forged/invoice.pdf").status_code == 404


@pytest.mark.django_db
def test_without_a_legal_name_the_invoice_names_the_shop_as_its_owner_set_it(
    shop: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_LEGAL_NAME = ""
    settings.SHOP_LEGAL_ADDRESS = []
    ShopSettings.objects.update_or_create(
        pk=SETTINGS_ID,
        defaults={"name": "Soap & Co", "contact_address": "1 Lather Lane\nBubbleton"},
    )

    client, order = paid(shop)
    text = pdf_text(client.get(f"/orders/{order.pk}/invoice.pdf").content)

    assert "Soap & Co" in text
    assert "1 Lather Lane" in text
    assert "Bubbleton" in text
    assert "Kassa" not in text.replace(f"Kassa order #{order.pk}", "")
