"""Which changes write which events, with the object as it stood in the change's transaction."""

from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.customers.returns import return_reject, return_request_create
from kassa.integrations.events import webhook_emit
from kassa.integrations.models import OutgoingEvent
from kassa.orders.lifecycle import order_mark_refunded, order_reopen
from kassa.orders.models import Order
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.integrations.conftest import MakeEndpoint
from tests.integrations.test_delivery import pay
from tests.mail import run_worker
from tests.notifications.test_mail import shop
from tests.webhook_receiver import Receiver

__all__ = ["shop"]
pytestmark = pytest.mark.django_db(transaction=True)


def test_refunds_and_cancelled_checkouts_are_told(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    endpoint_for("order.refunded", "order.cancelled")
    order, _ = pay(shop)
    assert order_mark_refunded(order_id=order.pk, amount_refunded=500, source="test")
    assert order_mark_refunded(order_id=order.pk, amount_refunded=1250, source="test")
    item = ItemFactory.create(price=Decimal("3.00"))
    pending = Order.objects.get(pk=Client().get(f"/buy/{item.pk}").json()["order_id"])
    assert order_reopen(order_id=pending.pk, source="checkout expired")
    run_worker()

    seen = [
        (r.payload["type"], r.payload["data"]["id"], r.payload["data"]["status"])
        for r in receiver.received
    ]
    assert seen == [
        ("order.refunded", order.pk, "partially_refunded"),
        ("order.refunded", order.pk, "refunded"),
        ("order.cancelled", pending.pk, "open"),
    ]


def test_stock_running_low_and_selling_out_are_told_once_each(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint, settings: SettingsWrapper
) -> None:
    settings.SHOP_LOW_STOCK = 5
    item = ItemFactory.create(stock=6)
    endpoint_for("stock.low", "stock.sold_out")
    Client().get(f"/buy/{item.pk}?quantity=1")  # 5 left: not yet below 5
    Client().get(f"/buy/{item.pk}?quantity=2")  # 3 left: low
    Client().get(f"/buy/{item.pk}?quantity=1")  # 2 left: still low, nothing new
    Client().get(f"/buy/{item.pk}?quantity=2")  # none left
    run_worker()

    assert receiver.types() == ["stock.low", "stock.sold_out"]
    low, sold_out = (r.payload["data"] for r in receiver.received)
    assert (low["id"], low["available"], low["sold_out"]) == (item.pk, 3, False)
    assert (sold_out["available"], sold_out["sold_out"]) == (0, True)


def test_a_saved_product_is_told_with_its_new_price(
    receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("12.50"))
    endpoint_for("product.updated")
    item.price = Decimal("14.00")
    item.save()
    run_worker()

    [request] = receiver.received
    assert request.payload["type"] == "product.updated"
    assert request.payload["data"]["price"]["amount"] == 1400
    assert request.payload["data"]["name"] == "Mug"


def test_an_event_rolled_back_with_its_change_is_never_sent(
    receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    item = ItemFactory.create()
    endpoint_for("product.updated")

    def change_that_fails() -> None:
        with transaction.atomic():
            item.save()
            raise RuntimeError("the change fails after the event was written")

    with pytest.raises(RuntimeError):
        change_that_fails()
    run_worker()
    assert receiver.received == []
    assert not OutgoingEvent.objects.exists()


def test_a_return_asked_for_and_decided_is_told(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    endpoint_for("return.requested", "return.decided")
    order, _ = pay(shop)
    line = order.lines.get()
    request = return_request_create(
        order_id=order.pk, quantities={line.pk: 1}, reason="Too small", customer=None
    )
    return_reject(request_id=request.pk, decided_by="staff", note="Worn, sorry")
    run_worker()

    seen = [
        (r.payload["type"], r.payload["data"]["id"], r.payload["data"]["status"])
        for r in receiver.received
    ]
    assert seen == [
        ("return.requested", request.pk, "requested"),
        ("return.decided", request.pk, "rejected"),
    ]
    assert receiver.received[1].payload["data"]["note"] == "Worn, sorry"


def test_a_fault_building_an_event_never_stops_the_payment(
    shop: FakeStripe,
    receiver: Receiver,
    endpoint_for: MakeEndpoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kassa.integrations import events

    endpoint_for("order.paid")
    kept = events._presenters["order"]

    def broken(pk: int) -> dict[str, object]:
        Order.objects.filter(pk=pk).update(email="written-by-the-broken-presenter@example.com")
        raise ValueError("a presenter bug")

    events.register("order", broken)
    try:
        order, _ = pay(shop)
    finally:
        events.register("order", kept)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID  # the money Stripe took is recorded
    assert order.email == "buyer@example.com"  # the presenter's own writes were rolled back
    assert not OutgoingEvent.objects.exists()
    assert "could not be written" in caplog.text
    assert "a presenter bug" in caplog.text


def test_deliver_webhooks_drains_the_queue_without_a_worker(
    shop: FakeStripe, receiver: Receiver, endpoint_for: MakeEndpoint
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from kassa.orders.lifecycle import order_mark_shipped

    endpoint_for("order.paid", "order.shipped")
    order, _ = pay(shop)
    assert order_mark_shipped(
        order_id=order.pk, carrier="", tracking_number="", tracking_url="", source="test"
    )
    out = StringIO()
    call_command("deliver_webhooks", stdout=out)
    assert receiver.types() == ["order.paid", "order.shipped"]
    assert "2 delivered" in out.getvalue()


def test_a_listed_type_without_its_presenter_is_logged_not_raised(
    endpoint_for: MakeEndpoint, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A type staff can tick whose objects have no presenter (yet) changes nothing else."""
    from kassa.integrations import events

    monkeypatch.delitem(events._presenters, "return")
    endpoint_for("return.decided")
    assert webhook_emit(event_type="return.decided", object_id=1, subject="order:1") is None
    assert "no presenter for return objects" in caplog.text
    assert not OutgoingEvent.objects.exists()
