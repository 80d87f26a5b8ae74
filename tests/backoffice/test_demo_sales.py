"""`manage.py seed_demo_sales`: a month of demo orders that look like the shop's own."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from kassa.backoffice.demo import seed_demo_sales
from kassa.orders.models import Order
from kassa.orders.pricing import order_totals
from kassa.payments.models import PaymentAttempt
from kassa.payments.reconcile import reconcile_pending

pytestmark = pytest.mark.django_db
S = Order.Status


def test_a_month_of_sales_of_the_demo_catalog() -> None:
    out = StringIO()
    call_command("seed_demo_sales", stdout=out)
    assert "Loaded 5 demo items, a product in 7 variants" in out.getvalue()
    assert "demo orders over 30 days" in out.getvalue()

    now = timezone.now()
    paid = Order.objects.filter(status__in=[S.PAID, S.PARTIALLY_REFUNDED, S.REFUNDED])
    assert paid.count() > 100
    assert set(paid.values_list("currency", flat=True)) == {"usd", "eur", "jpy"}
    assert paid.filter(status=S.REFUNDED).exists()
    assert paid.filter(status=S.PARTIALLY_REFUNDED).exists()
    for order in paid.prefetch_related("lines"):
        assert order.paid_at is not None
        assert now - timedelta(days=30) < order.paid_at < now
        assert order.amount_paid == order_totals(order).total  # the shop's own pricing
        assert order.created_at < order.paid_at
        [attempt] = order.payment_attempts.all()
        assert attempt.state == PaymentAttempt.State.PAID
        assert attempt.amount == order.amount_paid
    assert Order.objects.filter(status=S.OPEN, payment_attempts__isnull=False).exists()
    assert Order.objects.filter(status=S.OPEN, payment_attempts__isnull=True).exists()
    # Nothing for reconciliation to ask Stripe about: no demo attempt is open.
    assert not PaymentAttempt.objects.filter(state=PaymentAttempt.State.OPEN).exists()
    assert reconcile_pending().checked == 0


def test_the_same_seed_makes_the_same_sales_and_a_shop_with_orders_is_left_alone() -> None:
    call_command("seed_demo", stdout=StringIO())
    now = timezone.now()
    made = seed_demo_sales(seed=5, now=now)
    fields = ("currency", "status", "amount_paid", "paid_at", "created_at")
    first = list(Order.objects.order_by("pk").values_list(*fields))
    PaymentAttempt.objects.all().delete()
    Order.objects.all().delete()
    assert seed_demo_sales(seed=5, now=now) == made
    assert list(Order.objects.order_by("pk").values_list(*fields)) == first

    out = StringIO()
    call_command("seed_demo_sales", stdout=out)
    assert "The shop has orders already: demo sales not made." in out.getvalue()
    assert Order.objects.count() == len(first)
