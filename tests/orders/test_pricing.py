"""The totals the shop shows equal what (the fake of) Stripe Checkout charges."""

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kassa.catalog.models import Item
from kassa.common.money import from_minor, price_decimals, to_minor
from kassa.orders.models import Discount, Order, OrderLine, ShippingRate, Tax
from kassa.orders.pricing import order_totals, spread
from kassa.orders.shipping import ShippingOption, option_amount
from kassa.payments.stripe_objects import coupon_params, shipping_rate_params, tax_rate_params
from tests.fake_stripe.resources import Resources

# The automatic discounts and what limited ones cover are read from the database.
pytestmark = pytest.mark.django_db

CURRENCIES = ["usd", "eur", "jpy", "krw", "kwd", "bhd", "gbp"]


@st.composite
def orders(draw: st.DrawFn) -> tuple[Order, list[OrderLine]]:
    currency = draw(st.sampled_from(CURRENCIES))
    step = Decimal(1).scaleb(-price_decimals(currency))
    lines = []
    for index in range(draw(st.integers(1, 6))):
        units = draw(st.integers(1, 2_000_000 if price_decimals(currency) else 200_000))
        item = Item(pk=index + 1, name=f"Item {index}", price=units * step, currency=currency)
        lines.append(OrderLine(item=item, quantity=draw(st.integers(1, 99)), unit_price=item.price))
    order = Order(pk=1, currency=currency)
    kind = draw(st.sampled_from(["none", "percent", "amount"]))
    if kind == "percent":
        order.discount = Discount(
            name="d", kind="percent", percent_off=Decimal(draw(st.integers(1, 10000))) / 100
        )
    elif kind == "amount":
        order.discount = Discount(
            name="d",
            kind="amount",
            amount_off=draw(st.integers(1, 500_000)) * step,
            currency=currency,
        )
    if draw(st.booleans()):
        order.tax = Tax(
            name="t",
            percentage=Decimal(draw(st.integers(1, 999_999))) / 10_000,
            inclusive=draw(st.booleans()),
        )
    return order, lines


def _as_form(params: Any) -> dict[str, str]:
    """Values as stripe-python sends them: str() of each, booleans in lower case."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}


def charged_by_stripe(
    order: Order, lines: list[OrderLine], shipping: ShippingOption | None = None
) -> dict[str, Any]:
    stripe = Resources()
    body: dict[str, Any] = {}
    chosen = None
    if shipping is not None:
        params = shipping_rate_params(shipping)
        form = {
            "display_name": params["display_name"],
            "type": params["type"],
            "fixed_amount": {k: str(v) for k, v in params["fixed_amount"].items()},
        }
        rate = stripe.create_shipping_rate(_request(form))
        [chosen] = stripe._shipping_options(
            {"shipping_options": [{"shipping_rate": rate["id"]}]}, order.currency
        )
    tax_rates = []
    if order.discount is not None:
        coupon = stripe.create_coupon(_request(_as_form(coupon_params(order.discount))))
        body["discounts"] = [{"coupon": coupon["id"]}]
    if order.tax is not None:
        tax_rates = [stripe.create_tax_rate(_request(_as_form(tax_rate_params(order.tax))))["id"]]
    line_items = [
        {
            "price_data": {
                "currency": order.currency,
                "unit_amount": str(int(line.unit_price.scaleb(_exponent(order.currency)))),
                "product_data": {"name": line.item.name},
            },
            "quantity": str(line.quantity),
            "tax_rates": tax_rates,
        }
        for line in lines
    ]
    return stripe._price(body, line_items, order.currency, shipping=chosen)[0]


def _exponent(currency: str) -> int:
    return {"jpy": 0, "krw": 0, "kwd": 3, "bhd": 3}.get(currency, 2)


def _request(body: dict[str, Any]) -> Any:
    class Request:
        pass

    request = Request()
    request.body = body  # type: ignore[attr-defined]
    return request


@settings(max_examples=400, deadline=None)
@given(orders())
def test_shown_totals_equal_what_checkout_charges(case: tuple[Order, list[OrderLine]]) -> None:
    order, lines = case
    totals = order_totals(order, lines)
    charged = charged_by_stripe(order, lines)
    assert totals.subtotal == charged["amount_subtotal"]
    assert totals.discount == charged["total_details"]["amount_discount"]
    assert totals.tax == charged["total_details"]["amount_tax"]
    assert totals.total == charged["amount_total"]


@given(orders())
def test_totals_add_up(case: tuple[Order, list[OrderLine]]) -> None:
    order, lines = case
    totals = order_totals(order, lines)
    assert 0 <= totals.discount <= totals.subtotal
    assert sum(line.discount for line in totals.lines) == totals.discount
    assert sum(line.tax for line in totals.lines) == totals.tax
    added = 0 if totals.tax_inclusive else totals.tax
    assert totals.total == totals.subtotal - totals.discount + added
    if totals.tax_inclusive:
        assert totals.tax <= totals.subtotal - totals.discount


@given(
    total=st.integers(0, 10**9),
    weights=st.lists(st.integers(0, 10**8), min_size=1, max_size=20),
)
def test_spread_is_exact_and_proportional(total: int, weights: list[int]) -> None:
    parts = spread(total, weights)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
        return
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / sum(weights)
        assert abs(part - exact) < 1


def test_known_example_with_inclusive_tax() -> None:
    order = Order(pk=1, currency="eur")
    item = Item(pk=1, name="x", price=Decimal("11.90"), currency="eur")
    order.tax = Tax(name="VAT", percentage=Decimal("19"), inclusive=True)
    totals = order_totals(order, [OrderLine(item=item, quantity=1, unit_price=item.price)])
    assert totals.total == 1190  # inclusive tax changes nothing the customer pays
    assert totals.tax == 190
    assert from_minor(totals.tax, "eur") == Decimal("1.90")


def test_known_example_with_rounding_per_line() -> None:
    order = Order(pk=1, currency="usd")
    lines = [
        OrderLine(
            item=Item(pk=i, name="x", price=Decimal("0.05")), quantity=1, unit_price=Decimal("0.05")
        )
        for i in (1, 2, 3)
    ]
    order.tax = Tax(name="t", percentage=Decimal("10"), inclusive=False)
    totals = order_totals(order, lines)
    # 0.5 cent of tax on each line rounds up to 1 cent per line, as Stripe rounds per line.
    assert totals.tax == 3
    assert totals.total == 18


def test_a_deactivated_code_no_longer_discounts_a_cart_but_stays_on_a_started_order() -> None:
    item = Item(pk=1, name="x", price=Decimal("10.00"), currency="usd")
    lines = [OrderLine(item=item, quantity=1, unit_price=item.price)]
    code = Discount(name="Half", kind="percent", percent_off=Decimal("50"), active=False)
    cart, paid = Order(pk=1, currency="usd"), Order(pk=2, currency="usd", status=Order.Status.PAID)
    cart.discount = paid.discount = code
    assert order_totals(cart, lines).total == 1000
    assert order_totals(paid, lines).total == 500  # what it was charged, whatever staff do since


@st.composite
def shipped_orders(draw: st.DrawFn) -> tuple[Order, list[OrderLine], ShippingOption]:
    order, lines = draw(orders())
    step = Decimal(1).scaleb(-price_decimals(order.currency))
    free_from = draw(st.none() | st.integers(1, 3_000_000)) if draw(st.booleans()) else None
    rate = ShippingRate(
        pk=1,
        name="Courier",
        currency=order.currency,
        amount=draw(st.integers(0, 50_000)) * step,
        free_from=free_from * step if free_from is not None else None,
    )
    goods = order_totals(order, lines, shipping=0).total
    return order, lines, ShippingOption(rate=rate, amount=option_amount(rate, goods_total=goods))


@settings(max_examples=400, deadline=None)
@given(shipped_orders())
def test_totals_with_shipping_equal_what_checkout_charges(
    case: tuple[Order, list[OrderLine], ShippingOption],
) -> None:
    """The chosen rate's amount (free from its "free from" amount on) is added after discount
    and tax, untaxed and undiscounted, as Checkout adds it."""
    order, lines, option = case
    totals = order_totals(order, lines, shipping=option.amount)
    charged = charged_by_stripe(order, lines, option)
    assert totals.shipping == charged["total_details"]["amount_shipping"] == option.amount
    assert totals.discount == charged["total_details"]["amount_discount"]
    assert totals.tax == charged["total_details"]["amount_tax"]
    assert totals.total == charged["amount_total"]
    assert totals.goods_total == totals.total - option.amount
    free_from = option.rate.free_from
    if free_from is not None and totals.goods_total >= to_minor(free_from, order.currency):
        assert option.amount == 0
