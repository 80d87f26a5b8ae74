"""Each of a discount's rules, accepted and refused with its own message, when the code is typed
in the cart and again when the payment begins; automatic discounts; a late payment's use."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.utils import timezone

from kassa.catalog.models import Collection, CollectionProduct, Item
from kassa.orders import discount_rules, discount_uses, lifecycle
from kassa.orders.cart import cart_add_item, order_apply_discount_code
from kassa.orders.errors import CartNeedsChanges, InvalidDiscountCode
from kassa.orders.models import Discount, DiscountUse, Order, ShippingRate
from kassa.orders.pricing import order_totals
from kassa.orders.visitors import Visitor
from tests.factories import DiscountFactory, ItemFactory

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def _cart(*items: tuple[Item, int], token: str = "v1", user: int | None = None) -> Order:  # noqa: S107
    visitor = Visitor(token=token, user_id=user)
    order = None
    for item, quantity in items:
        order, _ = cart_add_item(visitor=visitor, item=item, quantity=quantity)
    assert order is not None
    return Order.objects.get(pk=order.pk)


def _refused(order: Order, code: str) -> str:
    with pytest.raises(InvalidDiscountCode) as refused:
        order_apply_discount_code(order=order, code=code)
    return str(refused.value)


def test_dates_are_checked_in_the_shops_time_zone() -> None:
    now = timezone.now()
    DiscountFactory.create(code="SOON", valid_from=now + timedelta(days=1))
    DiscountFactory.create(code="GONE", valid_until=now - timedelta(hours=1))
    DiscountFactory.create(
        code="NOW", valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=1)
    )
    order = _cart((ItemFactory.create(price=Decimal("20")), 1))
    assert _refused(order, "soon").startswith("This code can be used from ")
    assert _refused(order, "gone").startswith("This code expired on ")
    assert order_apply_discount_code(order=order, code="now").code == "NOW"


def test_a_minimum_subtotal_is_per_currency() -> None:
    DiscountFactory.create(code="BIG", min_subtotal={"usd": "50", "eur": "10"})
    item = ItemFactory.create(price=Decimal("20"))
    order = _cart((item, 1))
    assert _refused(order, "BIG") == (
        "This code needs a subtotal of at least $50.00: add $30.00 more to use it."
    )
    assert "add $10.00 more" in _refused(_cart((item, 2), token="v2"), "BIG")
    order = _cart((item, 3), token="v3")
    assert order_apply_discount_code(order=order, code="BIG").code == "BIG"
    assert order_totals(Order.objects.get(pk=order.pk)).discount == 600


def test_a_code_for_some_products_reduces_only_their_lines() -> None:
    mug, tee = ItemFactory.create(price=Decimal("10")), ItemFactory.create(price=Decimal("30"))
    code = DiscountFactory.create(code="MUGS", percent_off=Decimal("50"))
    code.products.set([mug.product_id or 0])
    assert _refused(_cart((tee, 1)), "MUGS").startswith("This code applies only to ")
    order = _cart((mug, 1), (tee, 1), token="v2")
    order_apply_discount_code(order=order, code="MUGS")
    totals = order_totals(Order.objects.get(pk=order.pk))
    assert {part.line.item_id: part.discount for part in totals.lines} == {mug.pk: 500, tee.pk: 0}
    assert totals.total == 3500


def test_a_code_for_a_collection_covers_its_products() -> None:
    mug, tee = ItemFactory.create(price=Decimal("10")), ItemFactory.create(price=Decimal("30"))
    kitchen = Collection.objects.create(name="Kitchen", handle="kitchen")
    CollectionProduct.objects.create(collection=kitchen, product_id=mug.product_id or 0)
    code = DiscountFactory.create(code="KITCHEN", percent_off=Decimal("10"))
    code.collections.set([kitchen])
    assert "Kitchen" in _refused(_cart((tee, 1)), "KITCHEN")
    order = _cart((mug, 2), (tee, 1), token="v2")
    order_apply_discount_code(order=order, code="KITCHEN")
    assert order_totals(Order.objects.get(pk=order.pk)).discount == 200


def test_free_shipping_needs_something_shipped_and_makes_every_rate_free() -> None:
    ShippingRate.objects.create(name="Post", currency="usd", amount=Decimal("5"), active=True)
    DiscountFactory.create(code="SHIPFREE", kind="free_shipping", percent_off=None)
    ebook = ItemFactory.create(price=Decimal("10"), requires_shipping=False)
    assert _refused(_cart((ebook, 1)), "SHIPFREE") == (
        "This code gives free shipping, and nothing in your cart is shipped."
    )
    order = _cart((ItemFactory.create(price=Decimal("10"), requires_shipping=True), 1), token="v2")
    order_apply_discount_code(order=order, code="SHIPFREE")
    totals = order_totals(Order.objects.get(pk=order.pk), shipping=500)
    assert (totals.free_shipping, totals.shipping, totals.discount, totals.total) == (
        True,
        0,
        0,
        1000,
    )


def test_uses_in_all_and_per_customer_count_held_and_used_ones() -> None:
    item = ItemFactory.create(price=Decimal("10"))
    user = User.objects.create_user("ada", email="ada@example.com")
    once = DiscountFactory.create(code="ONCE", max_uses_per_customer=1)
    last = DiscountFactory.create(code="LAST", max_uses=1)
    earlier = Order.objects.create(currency="usd", status=Order.Status.PAID, user=user)
    DiscountUse.objects.create(
        discount=once, order=earlier, user=user, state=DiscountUse.State.USED
    )
    DiscountUse.objects.create(discount=last, order=earlier, state=DiscountUse.State.HELD)
    mine = _cart((item, 1), user=user.pk)
    assert _refused(mine, "ONCE") == (
        "This code can be used once per customer, and you have used it already."
    )
    assert _refused(mine, "LAST") == "This code has been used up."
    # Someone else may use ONCE; and by e-mail too, without an account.
    other = _cart((item, 1), token="v2")
    assert order_apply_discount_code(order=other, code="ONCE").code == "ONCE"
    DiscountUse.objects.filter(discount=last).update(state=DiscountUse.State.RELEASED)
    assert order_apply_discount_code(order=mine, code="LAST").code == "LAST"


def test_a_code_that_stopped_applying_stops_the_payment_saying_why(client: Client) -> None:
    item = ItemFactory.create(price=Decimal("10"))
    response = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": "1"}, headers=JSON)
    order = Order.objects.get(pk=response.json()["id"])
    code = DiscountFactory.create(code="WEEK", valid_until=timezone.now() + timedelta(days=1))
    applied = client.post(f"/orders/{order.pk}/discount/", {"code": "week"}, headers=JSON)
    assert applied.status_code == 200
    Discount.objects.filter(pk=code.pk).update(valid_until=timezone.now() - timedelta(minutes=1))
    cart = client.get(f"/orders/{order.pk}/", headers=JSON).json()
    assert cart["discount"]["amount"] == 0
    [problem] = cart["problems"]
    assert problem.startswith("This code expired on ")
    with pytest.raises(CartNeedsChanges, match="This code expired on "), transaction.atomic():
        lifecycle.order_begin_payment(order=order)
    assert Order.objects.get(pk=order.pk).status == Order.Status.OPEN


def test_the_better_automatic_discount_applies_by_itself_beside_one_code() -> None:
    mug = ItemFactory.create(price=Decimal("10"))
    tee = ItemFactory.create(price=Decimal("30"))
    until = timezone.now() + timedelta(days=2)
    small = Discount.objects.create(
        name="Mug week", percent_off=Decimal("50"), automatic=True, valid_until=until
    )
    small.products.set([mug.product_id or 0])
    Discount.objects.create(name="Everything", percent_off=Decimal("10"), automatic=True)
    DiscountFactory.create(code="EXTRA", percent_off=Decimal("10"))
    order = _cart((mug, 1), (tee, 1))
    totals = order_totals(order)
    # 50% of the mug (5.00) beats 10% of everything (4.00).
    assert totals.promotion is not None
    assert totals.promotion.name == "Mug week"
    assert (totals.promotion_amount, totals.subtotal) == (500, 3500)
    order_apply_discount_code(order=order, code="EXTRA")
    totals = order_totals(Order.objects.get(pk=order.pk))
    assert (totals.discount, totals.total) == (350, 3150)  # the code on the sale prices
    assert discount_rules.promotion_for(mug) == small
    assert discount_rules.promotion_label(small).startswith("−50% until ")


def test_a_late_payment_keeps_its_discount_and_is_flagged_for_staff() -> None:
    item = ItemFactory.create(price=Decimal("10"))
    DiscountFactory.create(code="ONE", max_uses=1)
    first, second = _cart((item, 1), token="a"), _cart((item, 1), token="b")
    for order in (first, second):
        order_apply_discount_code(order=order, code="ONE")
    with transaction.atomic():
        lifecycle.order_begin_payment(order=first)
    lifecycle.order_reopen(order_id=first.pk, source="expired")  # its use is released
    with transaction.atomic():
        lifecycle.order_begin_payment(order=second)  # and taken by the next buyer
    with pytest.raises(CartNeedsChanges, match="used up"), transaction.atomic():
        lifecycle.order_begin_payment(order=first)

    # The first buyer's payment arrives all the same: money moved wins.
    assert lifecycle.order_mark_paid(order_id=first.pk, amount=900, source="late")
    paid = Order.objects.get(pk=first.pk)
    assert order_totals(paid).total == 900
    [late] = DiscountUse.objects.filter(order=paid, state=DiscountUse.State.USED)
    assert (late.state, late.late) == (DiscountUse.State.USED, True)
    assert discount_uses.release(order=paid) == 0


def test_the_cart_lists_each_discount_with_its_amount(client: Client) -> None:
    item = ItemFactory.create(price=Decimal("20"))
    Discount.objects.create(name="Sale", percent_off=Decimal("10"), automatic=True)
    DiscountFactory.create(name="Extra", code="EXTRA", percent_off=Decimal("50"))
    token = client.get("/api/v1/csrf").json()["csrf_token"]
    headers = {**JSON, "X-CSRFToken": token}
    client.post(
        "/api/v1/cart/lines",
        {"item_id": item.pk, "quantity": 1},
        "application/json",
        headers=headers,
    )
    cart = client.put(
        "/api/v1/cart/discount", {"code": "extra"}, "application/json", headers=headers
    )
    assert cart.status_code == 200, cart.content
    assert [
        (d["name"], d["code"], d["automatic"], d["amount"]["amount"])
        for d in cart.json()["discounts"]
    ] == [("Sale", None, True, 200), ("Extra", "EXTRA", False, 900)]
    assert cart.json()["total"]["amount"] == 900


def test_a_sale_ending_by_its_date_leaves_the_kept_product_pages_at_that_moment(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = ItemFactory.create(price=Decimal("10"))
    ends = timezone.now() + timedelta(hours=1)
    Discount.objects.create(
        name="Summer sale", percent_off=Decimal("10"), automatic=True, valid_until=ends
    )
    page = f"/item/{item.pk}/"
    assert "Summer sale" in client.get(page).text
    assert "Summer sale" in client.get(page).text  # now from the shared copy

    # An hour later, nothing saved meanwhile (no new catalog revision): the copy is not shown.
    later = ends + timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert "Summer sale" not in client.get(page).text
    assert item.product is not None
    assert "Summer sale" not in client.get(item.product.get_absolute_url()).text
