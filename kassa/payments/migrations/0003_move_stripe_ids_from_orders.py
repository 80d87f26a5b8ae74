"""Every order's Checkout Session and PaymentIntent, kept on the order until now, becomes a
PaymentAttempt; orders 0002 then drops them from the order."""

from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PAID = ("paid", "partially_refunded", "refunded")


def _account(currency: str) -> str:
    # The account's fingerprint as the shop computes it now, or "" with no key configured.
    from kassa.stripe_api.keys import keypair_for

    keypair = keypair_for(currency)
    return keypair.account if keypair else ""


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Order = apps.get_model("orders", "Order")
    PaymentAttempt = apps.get_model("payments", "PaymentAttempt")
    orders = Order.objects.exclude(stripe_checkout_session_id="", stripe_payment_intent_id="")
    attempts = []
    for order in orders.iterator():
        paid = order.status in PAID
        session, intent = order.stripe_checkout_session_id, order.stripe_payment_intent_id
        fields: dict[str, Any] = {
            "order_id": order.pk,
            "number": max(order.checkout_attempt, 1),
            "account": _account(order.currency),
            "currency": order.currency,
            "state": "paid" if paid else "open",
            # What a pending attempt asked was not kept; a paid one asked what it charged.
            "amount": order.amount_paid if paid else None,
            "closed_at": order.paid_at if paid else None,
            "note": "moved from the order",
        }
        if session:
            fields.update(kind="checkout_session", stripe_id=session, payment_intent_id=intent)
        else:
            fields.update(kind="payment_intent", stripe_id=intent, payment_intent_id=intent)
        attempts.append(PaymentAttempt(**fields))
    PaymentAttempt.objects.bulk_create(attempts, batch_size=500)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Order = apps.get_model("orders", "Order")
    PaymentAttempt = apps.get_model("payments", "PaymentAttempt")
    for attempt in PaymentAttempt.objects.exclude(state__in=["closed", "failed"]).order_by(
        "order_id", "number"
    ):
        match attempt.kind:
            case "checkout_session":
                session_id = attempt.stripe_id
            case _:
                session_id = ""
        Order.objects.filter(pk=attempt.order_id).update(
            checkout_attempt=attempt.number,
            stripe_checkout_session_id=session_id,
            stripe_payment_intent_id=attempt.payment_intent_id,
        )
    PaymentAttempt.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_payment_attempts")]
    # The ids are read from the order before orders drops them.
    run_before = [("orders", "0002_stripe_ids_moved_to_payments")]

    operations = [migrations.RunPython(forwards, backwards)]
