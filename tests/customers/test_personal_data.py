"""Personal data on request: the export, and the account's deletion that leaves the shop's
books intact and the customer's details nowhere in the database."""

import json

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.customers.models import Customer, ReturnRequest
from kassa.orders.models import Order, OrderLine
from kassa.payments.models import PaymentAttempt, WebhookEvent
from tests.customers.shop import paid_order, sign_in
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, run_worker, smtp
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

__all__ = ["smtp"]
pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "ada.lovelace@example.com"


# Invoices and credit notes are the shop's tax records: the law has the seller keep them, with
# the buyer's name and address, for years after the sale, so erasing an account leaves them.
KEPT_BY_LAW = ("invoices_",)


def rows_holding(text: str) -> list[str]:
    """Every table and column of the database in which `text` appears (any case), but the
    records the law has the shop keep."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table.startswith(KEPT_BY_LAW):
                continue
            quoted = connection.ops.quote_name(table)
            for column in connection.introspection.get_table_description(cursor, table):
                name = connection.ops.quote_name(column.name)
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quoted} WHERE LOWER(CAST({name} AS TEXT)) LIKE %s",  # noqa: S608 - quoted names from the schema
                    [f"%{text.lower()}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column.name}")
    return found


@pytest.fixture
def customer_with_history(
    fake_stripe: FakeStripe, smtp: SMTPServer, settings: SettingsWrapper
) -> tuple[Client, Order]:
    """A customer who bought before signing up (its Stripe event kept), asked for a return,
    and has their mail sent."""
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    order = paid_order(fake_stripe, email=EMAIL)
    attempt = PaymentAttempt.objects.get(order=order)
    session = fake_stripe.resources.checkout_sessions[attempt.stripe_id]
    assert post_event(event("checkout.session.completed", session)).status_code == 200
    client = Client()
    sign_in(client, smtp, EMAIL)
    line = order.lines.get(item__name="Mug")
    client.post(f"/orders/{order.pk}/return/", {f"line-{line.pk}": 1, "reason": "Ada's mug"})
    run_worker()
    return client, order


def test_the_export_holds_the_account_orders_returns_and_mail(
    customer_with_history: tuple[Client, Order],
) -> None:
    client, order = customer_with_history
    answer = client.get("/account/data/")
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment;")
    data = json.loads(answer.content)
    assert data["account"]["email"] == EMAIL
    [exported] = data["orders"]
    assert exported["id"] == order.pk
    assert exported["email"] == EMAIL
    assert exported["amount_paid"] == 2500
    assert {line["item"] for line in exported["lines"]} == {"Mug", "Plate"}
    assert exported["shipping_address"]
    assert data["return_requests"][0]["reason"] == "Ada's mug"
    [address] = data["addresses"]
    assert "1 Main St" in address["lines"]
    kinds = {mail["kind"] for mail in data["emails"]}
    assert {"confirmation", "sign_in", "return_requested"} <= kinds
    assert Client().get("/account/data/")["Location"] == "/account/sign-in/"


def test_deleting_the_account_erases_the_customer_and_keeps_the_books(
    customer_with_history: tuple[Client, Order],
) -> None:
    client, order = customer_with_history
    assert rows_holding(EMAIL)  # the check finds it where it is
    assert rows_holding("Ada Buyer")
    form = client.get("/account/delete/").content.decode()
    assert 'name="confirm"' in form
    unconfirmed = client.post("/account/delete/", {}, headers={"Accept": "application/json"})
    assert unconfirmed.status_code == 400
    assert Customer.objects.exists()

    assert client.post("/account/delete/", {"confirm": "on"}).status_code == 302
    assert client.get("/account/")["Location"] == "/account/sign-in/"  # signed out
    assert not Customer.objects.exists()
    assert rows_holding(EMAIL) == []
    assert rows_holding("Ada Buyer") == []
    assert rows_holding("1 Main St") == []
    assert rows_holding("Ada's mug") == []
    order.refresh_from_db()
    assert (order.status, order.amount_paid) == (Order.Status.PAID, 2500)
    assert OrderLine.objects.filter(order=order).count() == 2
    assert PaymentAttempt.objects.filter(order=order, state="paid").exists()
    assert ReturnRequest.objects.filter(order=order).count() == 1
    assert WebhookEvent.objects.count() == 1


def test_staff_export_and_delete_from_the_admin(
    customer_with_history: tuple[Client, Order],
) -> None:
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests-only")
    staff = Client()
    staff.login(username="staff", password="pw-for-tests-only")
    customer = Customer.objects.get()
    assert EMAIL in staff.get("/admin/customers/customer/").content.decode()
    chosen = {"_selected_action": [str(customer.pk)]}
    export = staff.post(
        "/admin/customers/customer/", {"action": "download_personal_data", **chosen}
    )
    assert json.loads(export.content)["account"]["email"] == EMAIL
    staff.post("/admin/customers/customer/", {"action": "delete_and_erase", **chosen})
    assert not Customer.objects.exists()
    assert rows_holding(EMAIL) == []
