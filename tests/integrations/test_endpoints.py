"""Endpoints as staff see them: registered in the admin with a secret shown once and rotated
with an overlap, switched off after failing for the whole limit (staff are told), and the
delivery log with its filter, resend and housekeeping."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper
from standardwebhooks import Webhook

from kassa.integrations.models import (
    DeliveryAttempt,
    OutgoingEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from kassa.notifications.models import Mail
from tests.fake_stripe import FakeStripe
from tests.integrations.conftest import MakeEndpoint
from tests.integrations.test_delivery import pay
from tests.mail import SMTPServer, decoded_subject, run_worker, smtp, wait_for
from tests.notifications.test_mail import shop
from tests.webhook_receiver import Receiver

__all__ = ["shop", "smtp"]
pytestmark = pytest.mark.django_db(transaction=True)
State = WebhookDelivery.State


@pytest.fixture
def staff() -> Client:
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    client = Client()
    client.force_login(admin)
    return client


def test_staff_register_an_endpoint_and_see_its_secret_once(
    staff: Client, receiver: Receiver, shop: FakeStripe
) -> None:
    response = staff.post(
        "/admin/integrations/webhookendpoint/add/",
        {
            "url": receiver.url,
            "description": "Warehouse",
            "events": ["order.paid"],
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in page
    assert endpoint.events == ["order.paid"]
    assert (
        staff.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/").status_code == 200
    )
    for later in (
        f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/",
        "/admin/integrations/webhookendpoint/",
    ):
        assert endpoint.secret not in staff.get(later).content.decode()

    receiver.secret = re.search(r"whsec_[A-Za-z0-9+/=]+", page).group(0)  # type: ignore[union-attr]
    pay(shop)
    run_worker()
    [request] = receiver.received
    assert request.verified


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://hooks.example.com/in", "https"),
        ("https://127.0.0.1/in", "loopback"),
        ("https://10.0.0.5/in", "private"),
        ("https://[::1]/in", "loopback"),
    ],
)
def test_the_admin_refuses_http_and_private_addresses_without_the_setting(
    staff: Client, settings: SettingsWrapper, url: str, error: str
) -> None:
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    response = staff.post(
        "/admin/integrations/webhookendpoint/add/",
        {"url": url, "events": ["order.paid"], "enabled": "on"},
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_rotated_secret_signs_beside_the_old_one_for_the_overlap(
    staff: Client, receiver: Receiver, endpoint_for: MakeEndpoint, shop: FakeStripe
) -> None:
    endpoint = endpoint_for("order.paid")
    old = endpoint.secret
    response = staff.post(
        "/admin/integrations/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in response.content.decode()
    assert old not in response.content.decode()

    receiver.secret = ""  # checked by hand below, with each secret alone
    pay(shop)
    run_worker()
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, endpoint.secret):
        Webhook(secret).verify(request.body, request.headers)

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    WebhookDelivery.objects.update(state=State.FAILED)
    staff.post(
        "/admin/integrations/webhookdelivery/",
        {
            "action": "send_again",
            "_selected_action": list(WebhookDelivery.objects.values_list("pk", flat=True)),
        },
    )
    run_worker()
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 1


def test_an_endpoint_failing_past_the_limit_is_switched_off_and_staff_are_told(
    shop: FakeStripe,
    receiver: Receiver,
    endpoint_for: MakeEndpoint,
    smtp: SMTPServer,
    settings: SettingsWrapper,
) -> None:
    settings.WEBHOOKS_GIVE_UP_SECONDS = 2.0
    endpoint = endpoint_for("order.paid", "order.shipped")
    receiver.reply = lambda request: 503
    pay(shop)
    # The limit counts from here, however long paying took on a busy machine.
    WebhookDelivery.objects.update(give_up_at=timezone.now() + timedelta(seconds=2))
    wait_for(
        lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).enabled,
        then=run_worker,
    )
    run_worker()  # the staff notice

    endpoint.refresh_from_db()
    assert "failed for" in endpoint.disabled_reason
    assert "answered 503" in endpoint.disabled_reason
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.FAILED
    assert delivery.attempts == len(receiver.received) >= 2
    [notice] = smtp.inbox.with_subject("Webhook endpoint")
    subject = " ".join(decoded_subject(notice).split())
    assert subject.endswith(f"Webhook endpoint {endpoint.url} was switched off")
    assert Mail.objects.get(kind=Mail.Kind.STAFF_NOTICE).state == Mail.State.SENT

    # Nothing more is written or sent for it until staff switch it on again.
    count = len(receiver.received)
    pay(shop)
    run_worker()
    assert len(receiver.received) == count
    assert OutgoingEvent.objects.count() == 1


def test_the_delivery_log_shows_failures_and_sends_again_with_the_same_id(
    staff: Client,
    receiver: Receiver,
    endpoint_for: MakeEndpoint,
    shop: FakeStripe,
    settings: SettingsWrapper,
) -> None:
    settings.WEBHOOKS_RETRY_SECONDS = [3600.0]
    endpoint_for("order.paid")
    receiver.replies = [(500, {}, b"warehouse database is down")]
    pay(shop)
    run_worker()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.PENDING  # waiting an hour for its retry

    failed = staff.get("/admin/integrations/webhookdelivery/?failed=yes").content.decode()
    assert "order.paid" in failed
    assert "answered 500" in failed
    delivered = staff.get("/admin/integrations/webhookdelivery/?state=delivered").content.decode()
    assert "answered 500" not in delivered
    page = staff.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "warehouse database is down" in page  # the attempt's answer
    assert delivery.event.event_id in page

    response = staff.post(
        "/admin/integrations/webhookdelivery/",
        {"action": "send_again", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 deliveries queued" in response.content.decode()
    run_worker()
    assert [r.webhook_id for r in receiver.received] == [delivery.event.event_id] * 2
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def test_housekeeping_removes_old_finished_events_only(
    receiver: Receiver, endpoint_for: MakeEndpoint, shop: FakeStripe
) -> None:
    endpoint_for("order.paid")
    pay(shop)
    run_worker()
    receiver.hold = None
    receiver.reply = lambda request: 500
    pay(shop)
    run_worker()
    old = timezone.now() - timedelta(days=31)
    OutgoingEvent.objects.update(created_at=old)
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {
        State.DELIVERED,
        State.PENDING,
    }

    call_command("clean_webhook_log", stdout=open("/dev/null", "w"))  # noqa: SIM115

    [kept] = WebhookDelivery.objects.all()
    assert kept.state == State.PENDING  # still owed: never removed
    assert OutgoingEvent.objects.count() == 1
    assert DeliveryAttempt.objects.filter(delivery=kept).exists()


def test_metrics_count_deliveries_and_the_oldest_waiting(
    receiver: Receiver,
    endpoint_for: MakeEndpoint,
    shop: FakeStripe,
    settings: SettingsWrapper,
    client: Client,
) -> None:
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    settings.WEBHOOKS_RETRY_SECONDS = [3600.0]
    endpoint_for("order.paid")
    pay(shop)
    run_worker()
    receiver.replies = [500]
    pay(shop)
    run_worker()
    OutgoingEvent.objects.filter(deliveries__state=State.PENDING).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    text = client.get(
        "/metrics", headers={"Authorization": "Bearer metrics-token-for-tests"}
    ).content.decode()
    assert 'kassa_webhook_deliveries{outcome="delivered",type="order.paid"} 1.0' in text
    assert 'kassa_webhook_deliveries{outcome="pending",type="order.paid"} 1.0' in text
    age = re.search(r"^kassa_webhook_oldest_undelivered_seconds ([0-9.e+]+)$", text, re.M)
    assert age is not None
    assert 600 <= float(age.group(1)) < 3600
