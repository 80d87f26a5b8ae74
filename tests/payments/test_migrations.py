"""The migration that moves Stripe ids from orders into payment attempts, run on real data."""

import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kassa.orders.models import Order
from kassa.payments.models import PaymentAttempt, Refund
from kassa.payments.refunds import refund_reported
from kassa.stripe_api import results

BEFORE = [("orders", "0001_initial"), ("payments", "0001_initial")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def _latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_every_orders_session_and_intent_becomes_a_payment_attempt() -> None:
    old = _migrate(BEFORE)
    item = old.get_model("catalog", "Item").objects.create(
        name="Mug", price=Decimal("10.00"), currency="usd"
    )
    OldOrder = old.get_model("orders", "Order")
    OldLine = old.get_model("orders", "OrderLine")

    def order(status: str, **fields: Any) -> int:
        made = OldOrder.objects.create(status=status, currency="usd", **fields)
        OldLine.objects.create(order=made, item=item, quantity=1, unit_price=Decimal("10.00"))
        return int(made.pk)

    cart = order("open", checkout_attempt=2)  # two attempts, both closed: nothing to move
    pending_session = order("pending", checkout_attempt=3, stripe_checkout_session_id="cs_3")
    pending_intent = order("pending", checkout_attempt=1, stripe_payment_intent_id="pi_1")
    paid = order(
        "paid",
        checkout_attempt=1,
        stripe_checkout_session_id="cs_paid",
        stripe_payment_intent_id="pi_of_cs_paid",
        amount_paid=1000,
    )
    partly = order(
        "partially_refunded",
        checkout_attempt=2,
        stripe_payment_intent_id="pi_partly",
        amount_paid=1000,
        amount_refunded=400,
    )
    refunded = order(
        "refunded",
        checkout_attempt=1,
        stripe_checkout_session_id="cs_refunded",
        stripe_payment_intent_id="pi_refunded",
        amount_paid=1000,
        amount_refunded=1000,
    )

    _migrate(_latest())

    moved = {
        attempt.order_id: (
            attempt.number,
            attempt.kind,
            attempt.stripe_id,
            attempt.payment_intent_id,
            attempt.state,
            attempt.amount,
        )
        for attempt in PaymentAttempt.objects.all()
    }
    assert moved == {
        pending_session: (3, "checkout_session", "cs_3", "", "open", None),
        pending_intent: (1, "payment_intent", "pi_1", "pi_1", "open", None),
        paid: (1, "checkout_session", "cs_paid", "pi_of_cs_paid", "paid", 1000),
        partly: (2, "payment_intent", "pi_partly", "pi_partly", "paid", 1000),
        refunded: (1, "checkout_session", "cs_refunded", "pi_refunded", "paid", 1000),
    }
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        cart: "open",
        pending_session: "pending",
        pending_intent: "pending",
        paid: "paid",
        partly: "partially_refunded",
        refunded: "refunded",
    }
    assert Order.objects.get(pk=partly).amount_refunded == 400

    # And back: the ids return to their orders.
    back = _migrate(BEFORE)
    restored = dict(
        back.get_model("orders", "Order").objects.values_list("pk", "stripe_checkout_session_id")
    )
    assert restored[pending_session] == "cs_3"
    assert restored[refunded] == "cs_refunded"
    _migrate(_latest())


BEFORE_REFUNDS = [
    ("orders", "0005_fulfilment_and_shipping_rates"),
    ("payments", "0004_stripe_shipping_rates"),
]


@pytest.mark.django_db(transaction=True)
def test_refunds_made_before_refund_records_keep_the_orders_totals() -> None:
    old = _migrate(BEFORE_REFUNDS)
    OldOrder = old.get_model("orders", "Order")
    OldAttempt = old.get_model("payments", "PaymentAttempt")
    partly = OldOrder.objects.create(
        status="partially_refunded", currency="usd", amount_paid=1000, amount_refunded=400
    )
    OldAttempt.objects.create(
        order=partly,
        number=1,
        kind="payment_intent",
        stripe_id="pi_partly",
        payment_intent_id="pi_partly",
        account="a",
        state="paid",
        currency="usd",
        amount=1000,
    )
    untouched = OldOrder.objects.create(status="paid", currency="usd", amount_paid=1000)

    _migrate(_latest())

    [standing_in] = Refund.objects.all()
    assert (standing_in.order_id, standing_in.amount, standing_in.state) == (
        partly.pk,
        400,
        "succeeded",
    )
    assert standing_in.payment_intent_id == "pi_partly"
    assert not Refund.objects.filter(order_id=untouched.pk).exists()

    # Stripe reports the earlier refund by its id (made before the records), and a new one.
    earlier = results.Refund(
        id="re_earlier",
        state=results.RefundState.SUCCEEDED,
        amount=400,
        payment_intent_id="pi_partly",
        created=int(standing_in.created_at.timestamp()) - 60,
    )
    later = results.Refund(
        id="re_later",
        state=results.RefundState.SUCCEEDED,
        amount=100,
        payment_intent_id="pi_partly",
        created=int(time.time()) + 60,
    )
    refund_reported(earlier, source="test")
    refund_reported(later, source="test")

    assert sorted(Refund.objects.values_list("stripe_id", "amount")) == [
        ("re_earlier", 400),
        ("re_later", 100),
    ]
    assert Order.objects.get(pk=partly.pk).amount_refunded == 500
