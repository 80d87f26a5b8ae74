"""Refunds from the admin, and reconciliation of orders whose webhook never came."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from kassa.common.installation import installation_id
from kassa.orders.models import Order, OrderStatusChange
from kassa.payments.models import PaymentAttempt
from tests.attempts import intent_of
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.html import csrf_token_in

pytestmark = pytest.mark.django_db


def started_order(fake: FakeStripe, price: str = "20.00") -> tuple[Order, str]:
    item = ItemFactory.create(price=Decimal(price))
    body = Client().get(f"/buy/{item.pk}").json()
    return Order.objects.get(pk=body["order_id"]), body["id"]


def paid_order(fake: FakeStripe) -> Order:
    order, session_id = started_order(fake)
    fake.resources.complete_checkout_session(session_id)
    # The customer's return to the success page confirms the payment with Stripe.
    page = Client().get(f"/checkout/success/?session_id={session_id}")
    assert page.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


@pytest.fixture
def staff() -> Client:
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests-only")
    client = Client()
    client.login(username="staff", password="pw-for-tests-only")
    return client


def refund_in_admin(staff: Client, order: Order) -> str:
    """Choose the refund action for `order`, then confirm it on the page it opens."""
    chosen = {"action": "refund_in_stripe", "_selected_action": [str(order.pk)]}
    asked = staff.post("/admin/orders/order/", chosen)
    assert asked.status_code == 200
    assert "cannot be undone" in asked.text
    response = staff.post(
        "/admin/orders/order/", {**chosen, "confirm_refund": "1", "confirm": "on"}, follow=True
    )
    assert response.status_code == 200
    return response.text


def test_a_refund_is_made_only_once_staff_confirm_it(
    fake_stripe: FakeStripe, staff: Client
) -> None:
    order = paid_order(fake_stripe)
    chosen = {"action": "refund_in_stripe", "_selected_action": [str(order.pk)]}

    asked = staff.post("/admin/orders/order/", chosen)
    unticked = staff.post("/admin/orders/order/", {**chosen, "confirm_refund": "1"})

    assert f"Order #{order.pk}" in asked.text
    assert "This field is required" in unticked.text
    assert fake_stripe.requests_to("POST", "/v1/refunds") == []
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_the_admin_refunds_a_paid_order_once(fake_stripe: FakeStripe, staff: Client) -> None:
    order = paid_order(fake_stripe)

    page = refund_in_admin(staff, order)
    again = refund_in_admin(staff, order)  # a double click

    assert f"Order #{order.pk} refunded" in page
    assert "not paid, or already refunded" in again
    [refund_call] = fake_stripe.requests_to("POST", "/v1/refunds")
    assert refund_call.params == {
        "payment_intent": intent_of(order),
        "metadata[order_id]": str(order.pk),
    }
    assert refund_call.idempotency_key == f"{installation_id()}-kassa-refund-{order.pk}-0-2000"
    assert len(fake_stripe.resources.refunds) == 1
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 2000)


def test_a_refund_retried_after_a_lost_answer_refunds_once(
    fake_stripe: FakeStripe, staff: Client
) -> None:
    order = paid_order(fake_stripe)
    fake_stripe.lose_answer_next(path="/v1/refunds")  # refunded in Stripe, the answer lost

    page = refund_in_admin(staff, order)

    calls = fake_stripe.requests_to("POST", "/v1/refunds")
    assert len(calls) == 2
    assert calls[0].idempotency_key == calls[1].idempotency_key
    assert len(fake_stripe.resources.refunds) == 1
    assert f"Order #{order.pk} refunded" in page
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 2000)


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_a_refund_stripe_did_not_make_leaves_the_order_paid(
    fake_stripe: FakeStripe, staff: Client, status: str
) -> None:
    order = paid_order(fake_stripe)
    fake_stripe.resources.refund_status = status

    page = refund_in_admin(staff, order)

    [refund_id] = fake_stripe.resources.refunds
    assert f"Stripe did not make the refund ({status}); see {refund_id} in the Dashboard." in page
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PAID, 0)


def test_the_admin_cannot_edit_what_a_started_payment_charges(
    fake_stripe: FakeStripe, staff: Client
) -> None:
    paid = paid_order(fake_stripe)
    open_order = Order.objects.create(currency="usd")
    open_order.lines.create(item=paid.lines.get().item, quantity=1, unit_price="20.00")

    def form(order: Order) -> str:
        return staff.get(f"/admin/orders/order/{order.pk}/change/").text

    for name in ('name="tax"', 'name="discount"', 'name="lines-0-quantity"'):
        assert name in form(open_order)
        assert name not in form(paid)


def test_the_terms_of_a_discount_or_tax_a_payment_used_are_read_only(
    fake_stripe: FakeStripe, staff: Client
) -> None:
    paid = paid_order(fake_stripe)
    used, unused = DiscountFactory.create(), DiscountFactory.create()
    used_tax, unused_tax = TaxFactory.create(), TaxFactory.create()
    Order.objects.filter(pk=paid.pk).update(discount=used, tax=used_tax)

    def form(kind: str, pk: int) -> str:
        return staff.get(f"/admin/orders/{kind}/{pk}/change/").text

    assert 'name="percent_off"' in form("discount", unused.pk)
    assert 'name="percent_off"' not in form("discount", used.pk)
    assert 'name="active"' in form("discount", used.pk)  # it can still be switched off
    assert 'name="percentage"' in form("tax", unused_tax.pk)
    assert 'name="percentage"' not in form("tax", used_tax.pk)


def test_an_unpaid_order_cannot_be_refunded(fake_stripe: FakeStripe, staff: Client) -> None:
    order, _ = started_order(fake_stripe)
    assert "not paid, or already refunded" in refund_in_admin(staff, order)
    assert fake_stripe.requests_to("POST", "/v1/refunds") == []


def test_the_success_page_fulfils_without_a_webhook_and_never_twice(
    fake_stripe: FakeStripe,
) -> None:
    order, session_id = started_order(fake_stripe)
    client = Client()
    unpaid_page = client.get(f"/checkout/success/?session_id={session_id}")
    assert unpaid_page.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING  # the URL alone proves nothing

    fake_stripe.resources.complete_checkout_session(session_id)
    client.get(f"/checkout/success/?session_id={session_id}")
    client.get(f"/checkout/success/?session_id={session_id}")

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    paid = OrderStatusChange.objects.filter(order=order, to_status=Order.Status.PAID)
    assert paid.count() == 1


def test_the_success_page_shows_the_paid_order_to_its_owner_only(
    fake_stripe: FakeStripe,
) -> None:
    owner = Client()
    item = ItemFactory.create(price=Decimal("20.00"))
    body = owner.get(f"/buy/{item.pk}").json()
    fake_stripe.resources.complete_checkout_session(body["id"])

    mine = owner.get(f"/checkout/success/?session_id={body['id']}")
    theirs = Client().get(f"/checkout/success/?session_id={body['id']}")

    assert "Your payment went through" in mine.text
    assert f"/orders/{body['order_id']}/" in mine.text
    assert f"/orders/{body['order_id']}/" not in theirs.text


def test_the_success_page_with_stripe_down_still_answers(fake_stripe: FakeStripe) -> None:
    order, session_id = started_order(fake_stripe)
    fake_stripe.fail_next(status=503, times=10)
    page = Client().get(f"/checkout/success/?session_id={session_id}")
    assert page.status_code == 200
    assert "being confirmed" in page.text
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def _age(order: Order, minutes: int = 30) -> None:
    """Make the order's payment attempts (and the order) `minutes` old."""
    then = timezone.now() - timedelta(minutes=minutes)
    Order.objects.filter(pk=order.pk).update(updated_at=then)
    PaymentAttempt.objects.filter(order=order).update(opened_at=then)


def test_reconciliation_fulfils_paid_and_reopens_expired(fake_stripe: FakeStripe) -> None:
    paid, paid_session = started_order(fake_stripe)
    expired, expired_session = started_order(fake_stripe)
    still_open, _ = started_order(fake_stripe)
    recent, recent_session = started_order(fake_stripe)
    fake_stripe.resources.complete_checkout_session(paid_session)
    fake_stripe.resources.checkout_sessions[expired_session]["status"] = "expired"
    fake_stripe.resources.complete_checkout_session(recent_session)
    for order in (paid, expired, still_open):
        _age(order)

    call_command("reconcile_payments")
    call_command("reconcile_payments")  # and again: nothing more happens

    statuses = {o.pk: o.status for o in Order.objects.all()}
    assert statuses == {
        paid.pk: Order.Status.PAID,
        expired.pk: Order.Status.OPEN,
        still_open.pk: Order.Status.PENDING,
        recent.pk: Order.Status.PENDING,  # young: left to its webhook
    }
    assert OrderStatusChange.objects.filter(order=paid, to_status="paid").count() == 1


def test_reconciliation_survives_stripe_failing(fake_stripe: FakeStripe) -> None:
    order, _ = started_order(fake_stripe)
    _age(order)
    fake_stripe.fail_next(status=503, times=10)
    call_command("reconcile_payments")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_reconciliation_cancels_a_payment_intent_abandoned_for_a_day(
    fake_stripe: FakeStripe,
) -> None:
    client = Client()
    item = ItemFactory.create()
    token = csrf_token_in(client.get(f"/item/{item.pk}/pay/").text)
    body = client.post(f"/item/{item.pk}/payment-intent/", headers={"X-CSRFToken": token}).json()
    order = Order.objects.get(pk=body["order_id"])
    intent_id = intent_of(order)

    _age(order, minutes=60)
    call_command("reconcile_payments")
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING  # an hour: the customer may still pay

    _age(order, minutes=25 * 60)
    call_command("reconcile_payments")
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert fake_stripe.resources.payment_intents[intent_id]["status"] == "canceled"
