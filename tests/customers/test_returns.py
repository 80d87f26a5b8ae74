"""Returns asked for online, decided by staff in the admin: refunds of exactly those lines."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Item
from kassa.customers.errors import ReturnRefused
from kassa.customers.models import ReturnRequest
from kassa.customers.returns import return_request_create
from kassa.notifications.models import Mail
from kassa.orders.links import order_token
from kassa.orders.models import Order
from tests.customers.shop import paid_order, sign_in
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, decoded_subject, part, run_worker, smtp, wait_for

__all__ = ["smtp"]
pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "ada@example.com"
JSON = {"Accept": "application/json"}


@pytest.fixture
def staff() -> Client:
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests-only")
    client = Client()
    client.login(username="staff", password="pw-for-tests-only")
    return client


def lines(order: Order) -> dict[str, int]:
    return {line.item.name: line.pk for line in order.lines.select_related("item")}


def ask(client: Client, order: Order, **quantities: int) -> ReturnRequest:
    form = {f"line-{lines(order)[name]}": n for name, n in quantities.items()}
    answer = client.post(
        f"/orders/{order.pk}/return/", {**form, "reason": "It does not fit."}, follow=True
    )
    assert answer.status_code == 200
    assert "Your return request was sent" in answer.content.decode()
    return ReturnRequest.objects.latest("id")


def mails_to(smtp: SMTPServer, email: str) -> list[str]:
    run_worker()
    return [decoded_subject(m) for m in smtp.inbox.messages if m["X-Envelope-To"] == email]


def decide(staff: Client, action: str, request: ReturnRequest) -> str:
    answer = staff.post(
        "/admin/customers/returnrequest/",
        {"action": action, "_selected_action": [str(request.pk)]},
        follow=True,
    )
    assert answer.status_code == 200
    return answer.content.decode()


def test_an_approved_return_refunds_exactly_those_lines_and_restocks_them(
    fake_stripe: FakeStripe, smtp: SMTPServer, staff: Client
) -> None:
    order = paid_order(fake_stripe, email=EMAIL)  # 2 mugs at 10.00, a plate at 5.00
    mug = Item.objects.get(name="Mug")
    assert mug.stock == 1
    client = Client()
    sign_in(client, smtp, EMAIL)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'href="/orders/{order.pk}/return/"' in page
    form = client.get(f"/orders/{order.pk}/return/").content.decode()
    assert 'name="reason"' in form

    request = ask(client, order, Mug=1)
    assert request.customer is not None
    assert [(line.order_line.item.name, line.quantity) for line in request.lines.all()] == [
        ("Mug", 1)
    ]
    to_decide = staff.get("/admin/customers/returnrequest/?to_decide=yes").content.decode()
    assert str(request) in to_decide
    assert staff.get(f"/admin/customers/returnrequest/{request.pk}/change/").status_code == 200

    result = decide(staff, "approve", request)
    assert "approved" in result
    [refund] = fake_stripe.requests_to("POST", "/v1/refunds")
    assert refund.params["amount"] == "1000"
    request.refresh_from_db()
    order.refresh_from_db()
    assert (request.status, request.amount_refunded) == (ReturnRequest.Status.APPROVED, 1000)
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 1000)
    mug.refresh_from_db()
    assert mug.stock == 2
    assert Item.objects.get(name="Plate").stock == 2  # not returned: not back

    # Approving again changes nothing: one refund, one approval mail.
    decide(staff, "approve", request)
    assert len(fake_stripe.requests_to("POST", "/v1/refunds")) == 1
    subjects = mails_to(smtp, EMAIL)
    assert sum("received your return request" in s for s in subjects) == 1
    assert sum("is approved" in s for s in subjects) == 1
    # The approval names the amount refunded: no refund notice besides it.
    assert not Mail.objects.filter(kind=Mail.Kind.REFUND).exists()
    assert len(subjects) == 4  # paid, sign-in code, request received, approved
    # The order's page shows the return; what is left can still be asked back.
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "approved" in page
    assert (
        client.post(
            f"/orders/{order.pk}/return/",
            {f"line-{lines(order)['Mug']}": 2, "reason": "x"},
            headers=JSON,
        ).json()["code"]
        == "return_refused"
    )


def test_a_rejected_return_tells_the_customer_why_and_refunds_nothing(
    fake_stripe: FakeStripe, smtp: SMTPServer, staff: Client
) -> None:
    order = paid_order(fake_stripe, email=EMAIL)
    client = Client()
    sign_in(client, smtp, EMAIL)
    request = ask(client, order, Mug=2, Plate=1)
    ReturnRequest.objects.filter(pk=request.pk).update(staff_note="Worn items cannot go back.")
    assert "rejected" in decide(staff, "reject", request)
    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.REJECTED
    assert fake_stripe.requests_to("POST", "/v1/refunds") == []
    wait_for(lambda: len(mails_to(smtp, EMAIL)) >= 3)
    [rejected] = [m for m in smtp.inbox.messages if "About your return" in decoded_subject(m)]
    assert "Worn items cannot go back." in part(rejected, "text/plain")
    assert Mail.objects.filter(kind=Mail.Kind.RETURN_REJECTED).count() == 1
    # Rejected units can be asked for again.
    assert ask(client, order, Mug=2).status == ReturnRequest.Status.REQUESTED


def test_shipping_is_refunded_only_when_staff_say_so(
    fake_stripe: FakeStripe, smtp: SMTPServer, staff: Client
) -> None:
    order = paid_order(fake_stripe, email=EMAIL)
    Order.objects.filter(pk=order.pk).update(shipping_amount=700, amount_paid=3200)
    client = Client()
    sign_in(client, smtp, EMAIL)
    request = ask(client, order, Plate=1)
    ReturnRequest.objects.filter(pk=request.pk).update(refund_shipping=True, restock=False)
    decide(staff, "approve", request)
    [refund] = fake_stripe.requests_to("POST", "/v1/refunds")
    assert refund.params["amount"] == "1200"
    assert Item.objects.get(name="Plate").stock == 2  # staff kept it out of stock


def test_the_signed_link_offers_returns_without_an_account(
    fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    order = paid_order(fake_stripe, email=EMAIL)
    token = order_token(order)
    anyone = Client()
    page = anyone.get(f"/orders/view/{token}/").content.decode()
    assert f"/orders/view/{token}/return/" in page
    answer = anyone.post(
        f"/orders/view/{token}/return/",
        {f"line-{lines(order)['Plate']}": 1, "reason": "Broken on arrival."},
    )
    assert answer.status_code == 302
    request = ReturnRequest.objects.get()
    assert request.customer is None
    assert anyone.get(f"/orders/view/{token}x/return/").status_code == 404
    # Signed in later, the customer finds it on their account page.
    client = Client()
    sign_in(client, smtp, EMAIL)
    assert str(request.get_status_display()) in client.get("/account/").content.decode()
    assert f'href="/orders/{order.pk}/"' in client.get("/account/").content.decode()


def test_no_return_after_the_return_days(
    fake_stripe: FakeStripe, smtp: SMTPServer, settings: SettingsWrapper
) -> None:
    settings.SHOP_RETURN_DAYS = 14
    order = paid_order(fake_stripe, email=EMAIL)
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(days=15))
    client = Client()
    sign_in(client, smtp, EMAIL)
    assert "/return/" not in client.get(f"/orders/{order.pk}/").content.decode()
    refused = client.post(
        f"/orders/{order.pk}/return/",
        {f"line-{lines(order)['Plate']}": 1, "reason": "Late."},
        headers=JSON,
    )
    assert refused.status_code == 400
    assert "ended" in refused.json()["error"]
    # Delivered since: the days count from the delivery.
    Order.objects.filter(pk=order.pk).update(delivered_at=timezone.now() - timedelta(days=2))
    assert "/return/" in client.get(f"/orders/{order.pk}/").content.decode()


def test_a_stranger_cannot_ask_to_return_an_order(fake_stripe: FakeStripe) -> None:
    order = paid_order(fake_stripe, email=EMAIL)
    stranger = Client()
    answer = stranger.post(f"/orders/{order.pk}/return/", {"reason": "mine"}, headers=JSON)
    assert answer.status_code == 404


def test_two_requests_racing_for_the_last_unit_make_one(fake_stripe: FakeStripe) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are checked in the PostgreSQL pass (make test-postgres)")
    order = paid_order(fake_stripe, email=EMAIL)
    plate = lines(order)["Plate"]  # one bought
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def one() -> None:
        try:
            start.wait()
            return_request_create(
                order_id=order.pk, quantities={plate: 1}, reason="race", customer=None
            )
            outcomes.append("accepted")
        except ReturnRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "refused"]
    assert ReturnRequest.objects.count() == 1
