"""Discounts on some lines, an automatic sale, free shipping and taxes together: what the shop
shows and stores equals what (the fake of) Stripe Checkout charges, in every currency the shop
sells in. Each example makes its catalog and order, begins the payment (the real Checkout
Session kind, stripe-python over HTTP) and completes it with a shipping choice."""

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kassa.catalog.models import Item
from kassa.common.money import CURRENCIES, price_decimals
from kassa.orders import lifecycle
from kassa.orders.errors import BelowMinimumCharge, CartNeedsChanges, InvalidQuantity
from kassa.orders.models import Discount, Order, OrderLine, ShippingRate, Tax
from kassa.orders.pricing import order_totals
from kassa.payments.methods.base import ReturnPages
from kassa.payments.methods.checkout_session import METHOD
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db(transaction=False)

PAGES = ReturnPages(success="https://shop.test/ok", cancel="https://shop.test/cancel")


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    count = draw(st.integers(1, 4))
    return {
        "currency": currency,
        "prices": [draw(st.integers(1, 300_000)) for _ in range(count)],
        "quantities": [draw(st.integers(1, 5)) for _ in range(count)],
        "ships": draw(st.booleans()),
        "code": draw(st.sampled_from(["none", "percent", "amount", "free_shipping"])),
        "code_lines": draw(st.lists(st.booleans(), min_size=count, max_size=count)),
        "limited": draw(st.booleans()),
        "percent": Decimal(draw(st.integers(1, 10000))) / 100,
        "amount": draw(st.integers(1, 200_000)),
        "sale": draw(st.none() | st.integers(1, 90)),
        "sale_lines": draw(st.lists(st.booleans(), min_size=count, max_size=count)),
        "tax": draw(st.none() | st.integers(1, 300_000)),
        "inclusive": draw(st.booleans()),
        "shipping": draw(st.integers(0, 20_000)),
    }


def _build(case: dict[str, Any]) -> tuple[Order, list[OrderLine]]:
    currency = case["currency"]
    step = Decimal(1).scaleb(-price_decimals(currency))
    items = [
        Item.objects.create(
            name=f"Thing {n}",
            price=price * step,
            currency=currency,
            requires_shipping=case["ships"],
        )
        for n, price in enumerate(case["prices"])
    ]
    order = Order.objects.create(currency=currency)
    lines = [
        OrderLine.objects.create(order=order, item=item, quantity=quantity, unit_price=item.price)
        for item, quantity in zip(items, case["quantities"], strict=True)
    ]
    if case["code"] != "none":
        code = Discount.objects.create(
            name="Code",
            code="CODE",
            kind=case["code"],
            percent_off=case["percent"] if case["code"] == "percent" else None,
            amount_off=case["amount"] * step if case["code"] == "amount" else None,
            currency=currency if case["code"] == "amount" else "",
        )
        if case["limited"]:
            code.products.set(
                [i.product_id or 0 for i, on in zip(items, case["code_lines"], strict=True) if on]
                or [items[0].product_id or 0]
            )
        order.discount = code
    if case["sale"] is not None:
        sale = Discount.objects.create(
            name="Sale", kind="percent", percent_off=Decimal(case["sale"]), automatic=True
        )
        sale.products.set(
            [i.product_id or 0 for i, on in zip(items, case["sale_lines"], strict=True) if on]
            or [items[-1].product_id or 0]
        )
    if case["tax"] is not None:
        order.tax = Tax.objects.create(
            name="VAT", percentage=Decimal(case["tax"]) / 10_000, inclusive=case["inclusive"]
        )
    if case["ships"]:
        ShippingRate.objects.create(
            name="Post", currency=currency, amount=case["shipping"] * step, active=True
        )
    order.save()
    return order, lines


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cases())
def test_discounts_sales_free_shipping_and_taxes_total_what_checkout_charges(
    fake_stripe: FakeStripe, case: dict[str, Any]
) -> None:
    fake_stripe.reset()  # each example's order is new to it (its idempotency keys too)
    with transaction.atomic():
        order, lines = _build(case)
        shown = order_totals(order, list(order.lines.select_related("item")), shipping=0)
        try:
            lifecycle.order_begin_payment(order=order)
        except CartNeedsChanges as refused:
            problem = str(refused)
            transaction.set_rollback(True)
            # A code that does not apply stops the payment, as the cart said.
            assert shown.code is None
            assert problem == shown.code_problem
            assume(False)
        except (BelowMinimumCharge, InvalidQuantity):
            transaction.set_rollback(True)
            assume(False)
        order = Order.objects.select_related("discount", "promotion", "tax").get(pk=order.pk)
        lines = list(order.lines.select_related("item"))
        made = METHOD.create(order=order, attempt=1, lines=lines, pages=PAGES)
        session = fake_stripe.resources.checkout_sessions[made.remote.stripe_id]
        frozen = order_totals(order, lines, shipping=0)
        # What the cart showed is what the payment charges.
        assert frozen.total == shown.total
        assert frozen.discount == shown.discount
        assert frozen.promotion == shown.promotion
        assert frozen.subtotal == session["amount_subtotal"]
        assert frozen.discount == session["total_details"]["amount_discount"]

        completed = fake_stripe.resources.complete_checkout_session(made.remote.stripe_id)
        shipping = completed["total_details"]["amount_shipping"]
        paid = order_totals(order, lines, shipping=shipping)
        assert paid.tax == completed["total_details"]["amount_tax"]
        assert paid.total == completed["amount_total"]
        if frozen.free_shipping:
            assert shipping == 0
        elif case["ships"]:
            assert shipping == paid.shipping
        transaction.set_rollback(True)
