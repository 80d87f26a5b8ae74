"""Outgoing webhooks end to end: an order's events written with its changes, delivered by the
worker to a real receiver that checks each signature with the `standardwebhooks` library."""

from typing import Any

import jsonschema_rs
import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.integrations.models import DeliveryAttempt, OutgoingEvent, WebhookDelivery
from kassa.orders.lifecycle import order_mark_delivered, order_mark_shipped
from kassa.orders.models import Order
from tests.fake_stripe import FakeStripe
from tests.integrations.conftest import MakeEndpoint
from tests.mail import run_worker
from tests.notifications.test_mail import checkout, shop
from tests.stripe_events import event, post_event
from tests.webhook_receiver import Receiver

__all__ = ["shop"]
pytestmark = pytest.mark.django_db(transaction=True)
State = WebhookDelivery.State


def pay(shop: FakeStripe) -> tuple[Order, dict[str, Any]]:
    _, order, session = checkout(shop)
    assert post_event(event("checkout.session.completed", session)).status_code == 200
    return order, session


def ship(order: Order) -> None:
    assert order_mark_shipped(
        order_id=order.pk,
        carrier="DHL",
        tracking_number="123",
        tracking_url="https://track.example/123",
        source="test",
    )


def test_a_paid_order_is_delivered_once_signed_as_standard_webhooks_says(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    endpoint_for("order.paid")
    order, session = pay(shop)
    for _ in range(2):  # the same payment reported again, and in a new event of Stripe's
        post_event(event("checkout.session.completed", session))
    run_worker()

    [request] = receiver.received
    assert request.verified
    assert request.path == "/hooks"
    assert request.headers["content-type"] == "application/json"
    body = request.payload
    assert body["type"] == "order.paid"
    assert body["id"] == request.webhook_id
    assert body["id"].startswith("evt_")
    assert body["timestamp"].endswith("Z")
    assert body["data"]["id"] == order.pk
    assert body["data"]["status"] == "paid"
    assert body["data"]["total"] == {"amount": 1250, "currency": "usd", "formatted": "$12.50"}
    assert body["data"]["customer"]["email"] == "buyer@example.com"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.DELIVERED
    assert delivery.last_status == 200
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.status == 200
    assert attempt.response == "ok"


def test_an_event_nobody_asked_for_is_not_written(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    endpoint_for("order.shipped")
    pay(shop)
    assert not OutgoingEvent.objects.exists()


def test_a_receiver_failing_twice_gets_the_event_three_times_then_the_next_in_order(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    endpoint_for("order.paid", "order.shipped", "order.delivered")
    receiver.replies = [500, (500, {}, b"database down")]
    order, _ = pay(shop)
    ship(order)  # happens while the paid event is being retried: it waits its turn
    assert order_mark_delivered(order_id=order.pk, source="test")
    receiver.wait_for(5, then=run_worker)

    assert receiver.types() == [
        "order.paid",
        "order.paid",
        "order.paid",
        "order.shipped",
        "order.delivered",
    ]
    first = receiver.received[0]
    assert {r.webhook_id for r in receiver.received[:3]} == {first.webhook_id}
    assert len({r.webhook_id for r in receiver.received}) == 3
    assert all(r.verified for r in receiver.received)
    # Each retry is signed anew, with its own time: a receiver's tolerance never expires it.
    paid = WebhookDelivery.objects.get(event_type="order.paid")
    assert paid.attempts == 3
    log = list(paid.attempt_log.order_by("started_at").values_list("status", "response"))
    assert log == [(500, "ok"), (500, "database down"), (200, "ok")]
    assert receiver.received[3].payload["data"]["status"] == "paid"


def test_orders_do_not_wait_for_each_other(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint, settings: SettingsWrapper
) -> None:
    settings.WEBHOOKS_RETRY_SECONDS = [60.0]
    endpoint_for("order.paid", "order.shipped")
    stuck, _ = pay(shop)
    receiver.reply = lambda request: 500 if request.payload["data"]["id"] == stuck.pk else 200
    ship(stuck)
    other, _ = pay(shop)
    ship(other)
    run_worker()

    delivered = [(r.payload["type"], r.payload["data"]["id"]) for r in receiver.received]
    assert ("order.paid", other.pk) in delivered
    assert ("order.shipped", other.pk) in delivered
    assert ("order.shipped", stuck.pk) not in delivered  # waits behind its order's paid event
    waiting = WebhookDelivery.objects.get(event_type="order.shipped", subject=f"order:{stuck.pk}")
    assert waiting.state == State.PENDING
    assert waiting.attempts == 0


def test_the_body_is_described_by_the_api_schema(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint, client: Client
) -> None:
    endpoint_for("order.paid", "order.shipped", "product.updated")
    order, _ = pay(shop)
    ship(order)
    receiver.wait_for(3, then=run_worker)

    schema = client.get("/api/v1/openapi.json").json()
    for request in receiver.received:
        operation = schema["webhooks"][request.payload["type"]]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.validator_for({**body, "components": schema["components"]})
        validator.validate(request.payload)
    assert set(schema["webhooks"]) >= {
        "order.paid",
        "order.refunded",
        "order.shipped",
        "order.delivered",
        "order.cancelled",
        "product.updated",
        "stock.low",
        "stock.sold_out",
    }


def test_an_endpoint_on_a_private_address_gets_nothing_without_the_setting(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint, settings: SettingsWrapper
) -> None:
    endpoint_for("order.paid", url=f"https://127.0.0.1:{receiver.port}/hooks")
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    pay(shop)
    run_worker()

    assert receiver.received == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.PENDING  # retried, in case the address changes
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.status is None
    assert attempt.error.startswith("refused: 127.0.0.1 is a loopback address")
