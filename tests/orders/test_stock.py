"""Stock: held when a payment begins, released when it closes, sold when paid; the storefront
and the cart saying what is left; off sale; carts at current prices; the default tax; refunds
that restock. Through the real stripe-python against the fake Stripe, and signed webhooks."""

import logging
import re
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Item
from kassa.notifications.models import Mail
from kassa.orders import stock
from kassa.orders.models import Order, OrderLine, Reservation
from kassa.payments.models import PaymentAttempt
from tests.factories import ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}
HELD, SOLD, RELEASED, RETURNED = (
    Reservation.State.HELD,
    Reservation.State.SOLD,
    Reservation.State.RELEASED,
    Reservation.State.RETURNED,
)


@pytest.fixture
def webhooks(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    return fake_stripe


@pytest.fixture
def staff() -> Client:
    User.objects.create_superuser("staff", "staff@example.com", "pw-for-tests-only")
    client = Client()
    client.login(username="staff", password="pw-for-tests-only")
    return client


def deliver(evt: dict[str, Any]) -> bool:
    """Post the signed event; whether the shop took it (200)."""
    return post_event(evt).status_code == 200


def levels(item: Item) -> tuple[int | None, int]:
    item.refresh_from_db()
    return item.stock, item.reserved


def buy(client: Client, item: Item, quantity: int | None = None) -> Any:
    query = "" if quantity is None else f"?quantity={quantity}"
    return client.get(f"/buy/{item.pk}{query}", headers=JSON)


def add(client: Client, item: Item, quantity: int = 1) -> Any:
    return client.post(f"/item/{item.pk}/add-to-order/", {"quantity": quantity}, headers=JSON)


def states(order_id: int) -> list[tuple[int, str]]:
    return list(
        Reservation.objects.filter(order_id=order_id)
        .values_list("quantity", "state")
        .order_by("id")
    )


# --- holding, releasing, selling ----------------------------------------------------------------


def test_a_buy_click_holds_its_unit_until_the_session_expires(webhooks: FakeStripe) -> None:
    item = ItemFactory.create(stock=3)
    body = buy(Client(), item).json()

    assert levels(item) == (3, 1)
    [held] = Reservation.objects.filter(order_id=body["order_id"])
    assert (held.quantity, held.state) == (1, HELD)
    [created] = webhooks.requests_to("POST", "/v1/checkout/sessions")
    # The session expires when the reservation does (30 minutes, plus Stripe's margin).
    assert held.reserved_until is not None
    assert abs(int(created.params["expires_at"]) - held.reserved_until.timestamp()) <= 65

    session = webhooks.resources.checkout_sessions[body["id"]]
    assert deliver(event("checkout.session.expired", {**session, "status": "expired"}))
    assert levels(item) == (3, 0)
    assert states(body["order_id"]) == [(1, RELEASED)]


def test_the_session_lives_as_long_as_checkout_reservation_minutes(
    fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.CHECKOUT_RESERVATION_MINUTES = 120
    item = ItemFactory.create(stock=3)
    before = time.time()
    buy(Client(), item)
    after = time.time()
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert int(before) + 120 * 60 <= int(created.params["expires_at"]) <= after + 120 * 60


def test_paying_sells_what_was_held(webhooks: FakeStripe) -> None:
    item = ItemFactory.create(stock=3)
    body = buy(Client(), item, 2).json()
    completed = webhooks.resources.complete_checkout_session(body["id"])

    assert deliver(event("checkout.session.completed", completed))

    assert levels(item) == (1, 0)
    assert states(body["order_id"]) == [(2, SOLD)]
    assert not Order.objects.get(pk=body["order_id"]).oversold


def test_a_sold_out_item_is_a_clean_409_and_writes_nothing(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(stock=1)
    assert buy(Client(), item).status_code == 200

    refused = buy(Client(), item)

    assert refused.status_code == 409
    assert refused.json() == {"error": f"{item.name} is sold out.", "code": "out_of_stock"}
    assert Order.objects.count() == 1
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert levels(item) == (1, 1)


def test_buy_now_buys_the_quantity_in_its_box(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(stock=5, price=Decimal("4.00"))
    body = buy(Client(), item, 3).json()

    [line] = OrderLine.objects.filter(order_id=body["order_id"])
    assert line.quantity == 3
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["line_items[0][quantity]"] == "3"
    assert levels(item) == (5, 3)
    # More than is left: refused, with how many there are.
    refused = buy(Client(), item, 3)
    assert refused.status_code == 409
    assert refused.json()["error"] == f"Only 2 of {item.name} left; you asked for 3."


@pytest.mark.parametrize("quantity", ["0", "-1", "1000000000", "abc", "2.5", ""])
def test_buy_now_refuses_a_quantity_that_is_no_quantity(
    fake_stripe: FakeStripe, quantity: str
) -> None:
    item = ItemFactory.create(stock=5)
    response = Client().get(f"/buy/{item.pk}?quantity={quantity}", headers=JSON)
    if quantity == "":
        assert response.status_code == 200  # the box left empty buys one
        assert levels(item) == (5, 1)
        return
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]
    assert Order.objects.count() == 0
    assert levels(item) == (5, 0)


def test_a_cart_refuses_more_than_is_available(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(stock=2)
    client = Client()
    assert add(client, item, 2).status_code == 201
    refused = add(client, item, 1)
    assert refused.status_code == 409
    assert refused.json()["error"] == f"Only 2 of {item.name} left; you asked for 3."
    order = Order.objects.get()
    [line] = order.lines.all()
    raised = client.post(f"/orders/{order.pk}/lines/{line.pk}/", {"quantity": 5}, headers=JSON)
    assert raised.status_code == 409
    line.refresh_from_db()
    assert line.quantity == 2


@pytest.mark.parametrize("quantity", ["0", "-1", "1000000000", "x"])
def test_a_cart_refuses_a_quantity_that_is_no_quantity(quantity: str) -> None:
    item = ItemFactory.create(stock=5)
    response = Client().post(f"/item/{item.pk}/add-to-order/", {"quantity": quantity}, headers=JSON)
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]
    assert Order.objects.count() == 0


def test_a_cart_holds_its_units_from_checkout_and_gives_them_back_when_edited(
    fake_stripe: FakeStripe,
) -> None:
    mug, towel = ItemFactory.create(stock=4), ItemFactory.create(stock=None)
    client = Client()
    add(client, mug, 3)
    order_id = add(client, towel, 2).json()["id"]
    assert levels(mug) == (4, 0)  # a cart holds nothing

    assert client.get(f"/orders/{order_id}/buy/", headers=JSON).status_code == 200
    assert levels(mug) == (4, 3)
    assert states(order_id) == [(3, HELD)]  # the untracked towel holds nothing

    client.post(f"/orders/{order_id}/reopen/")
    assert Order.objects.get(pk=order_id).status == Order.Status.OPEN
    assert levels(mug) == (4, 0)
    assert states(order_id) == [(3, RELEASED)]


def test_a_cart_beyond_stock_cannot_start_checkout_until_fixed(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(stock=3)
    client = Client()
    order_id = add(client, item, 3).json()["id"]
    assert buy(Client(), item, 2).status_code == 200  # someone else is paying for two

    page = client.get(f"/orders/{order_id}/")
    refused = client.get(f"/orders/{order_id}/buy/", headers=JSON)

    assert f"Only 1 of {item.name} left: lower the quantity to pay." in page.text
    assert 'id="buy"' in page.text
    assert "disabled" in page.text.split('id="buy"')[1][:300]
    assert refused.status_code == 409
    assert Order.objects.get(pk=order_id).status == Order.Status.OPEN
    assert levels(item) == (3, 2)
    line = OrderLine.objects.get(order_id=order_id)
    client.post(f"/orders/{order_id}/lines/{line.pk}/", {"quantity": 1})
    assert client.get(f"/orders/{order_id}/buy/", headers=JSON).status_code == 200
    assert levels(item) == (3, 3)


def test_a_one_line_order_whose_session_failed_gives_its_units_back(
    fake_stripe: FakeStripe,
) -> None:
    item = ItemFactory.create(stock=2)
    fake_stripe.fail_next(status=500, path="/v1/checkout/sessions", times=10)
    assert buy(Client(), item).status_code in (502, 503)
    assert Order.objects.count() == 0
    assert levels(item) == (2, 0)


# --- money moved wins ---------------------------------------------------------------------------


def test_a_payment_after_its_reservation_lapsed_is_recorded_and_flagged_oversold(
    webhooks: FakeStripe,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.SHOP_STAFF_EMAILS = ["staff@example.com"]
    item = ItemFactory.create(stock=1)
    late = buy(Client(), item).json()
    session = webhooks.resources.checkout_sessions[late["id"]]
    deliver(event("checkout.session.expired", {**session, "status": "expired"}))
    assert buy(Client(), item).status_code == 200  # the unit went to someone else
    heard: list[dict[str, Any]] = []
    stock.order_oversold.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="t")

    # A late async payment of the expired one.
    completed = {**session, "status": "complete", "payment_status": "paid"}
    completed["payment_intent"] = "pi_test_late"
    with (
        caplog.at_level(logging.WARNING, logger="kassa.orders.stock"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert deliver(event("checkout.session.async_payment_succeeded", completed))

    stock.order_oversold.disconnect(dispatch_uid="t")
    order = Order.objects.get(pk=late["order_id"])
    assert order.status == Order.Status.PAID
    assert order.oversold
    assert states(order.pk) == [(1, RELEASED), (0, SOLD)]
    assert Reservation.objects.get(order=order, state=SOLD).short == 1
    assert levels(item) == (1, 1)  # the other buyer's hold is untouched
    assert f"order {order.pk} is oversold" in caplog.text
    assert heard
    assert heard[0]["order_id"] == order.pk
    assert heard[0]["shortages"] == [(item.name, 1)]
    # Staff are told by mail, once, whatever else reports the payment.
    assert deliver(event("checkout.session.async_payment_succeeded", completed))
    notice = Mail.objects.get(key=f"notice:oversold:{order.pk}")
    assert f"Order #{order.pk}" in notice.context["subject"]
    assert f"{item.name} (1 short)" in notice.context["body"]


def test_a_late_payment_with_stock_left_takes_it_and_is_not_oversold(
    webhooks: FakeStripe,
) -> None:
    item = ItemFactory.create(stock=5)
    late = buy(Client(), item, 2).json()
    session = webhooks.resources.checkout_sessions[late["id"]]
    deliver(event("checkout.session.expired", {**session, "status": "expired"}))
    completed = {**session, "status": "complete", "payment_status": "paid"}
    completed["payment_intent"] = "pi_test_late"
    deliver(event("checkout.session.async_payment_succeeded", completed))

    order = Order.objects.get(pk=late["order_id"])
    assert (order.status, order.oversold) == (Order.Status.PAID, False)
    assert levels(item) == (3, 0)


def test_oversold_orders_have_a_filter_in_the_admin(staff: Client) -> None:
    flagged = Order.objects.create(currency="usd", status=Order.Status.PAID, oversold=True)
    fine = Order.objects.create(currency="usd", status=Order.Status.PAID)
    page = staff.get("/admin/orders/order/?oversold__exact=1").text
    assert f"/admin/orders/order/{flagged.pk}/change/" in page
    assert f"/admin/orders/order/{fine.pk}/change/" not in page


# --- PaymentIntents -----------------------------------------------------------------------------


def test_a_payment_intents_reservation_lapses_when_reconciliation_cancels_it(
    fake_stripe: FakeStripe,
) -> None:
    item = ItemFactory.create(stock=2)
    client = Client()
    body = client.post(f"/item/{item.pk}/payment-intent/", headers=JSON).json()
    assert levels(item) == (2, 1)
    order = Order.objects.get(pk=body["order_id"])
    # Not yet lapsed: reconciliation leaves it (and its intent) alone.
    PaymentAttempt.objects.filter(order=order).update(
        opened_at=timezone.now() - timedelta(minutes=20)
    )
    call_command("reconcile_payments", "--per-second", "0")
    assert levels(item) == (2, 1)

    Reservation.objects.filter(order=order).update(
        reserved_until=timezone.now() - timedelta(seconds=1)
    )
    call_command("reconcile_payments", "--per-second", "0")

    assert levels(item) == (2, 0)
    [intent] = fake_stripe.resources.payment_intents.values()
    assert intent["status"] == "canceled"
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


# --- refunds ------------------------------------------------------------------------------------


def _paid(webhooks: FakeStripe, item: Item, quantity: int) -> Order:
    body = buy(Client(), item, quantity).json()
    deliver(
        event(
            "checkout.session.completed", webhooks.resources.complete_checkout_session(body["id"])
        )
    )
    return Order.objects.get(pk=body["order_id"])


def _refund(staff: Client, order: Order, **form: str) -> str:
    chosen = {"action": "refund_in_stripe", "_selected_action": [str(order.pk)]}
    response = staff.post(
        "/admin/orders/order/",
        {**chosen, "confirm_refund": "1", "confirm": "on", **form},
        follow=True,
    )
    assert response.status_code == 200
    return response.text


def test_a_refund_restocks_exactly_the_units_that_came_back(
    webhooks: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create(stock=5, price=Decimal("10.00"))
    order = _paid(webhooks, item, 2)
    line = order.lines.get()
    assert levels(item) == (3, 0)

    # One soap of two came back: one goes on sale again, and its price is refunded.
    page = _refund(staff, order, restock="on", **{f"returned_{line.pk}": "1"})

    assert "refunded" in page
    [call] = webhooks.requests_to("POST", "/v1/refunds")
    assert call.params["amount"] == "1000"
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.PARTIALLY_REFUNDED, 1000)
    assert levels(item) == (4, 0)
    assert states(order.pk) == [(1, SOLD), (1, RETURNED)]

    # The other one comes back later: the order is refunded in full, and the stock is whole.
    _refund(staff, order, restock="on", **{f"returned_{line.pk}": "1"})
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 2000)
    assert levels(item) == (5, 0)
    assert states(order.pk) == [(1, RETURNED), (1, RETURNED)]


def test_units_that_came_back_damaged_are_refunded_but_not_restocked(
    webhooks: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create(stock=5, price=Decimal("10.00"))
    order = _paid(webhooks, item, 2)
    line = order.lines.get()

    _refund(staff, order, **{f"returned_{line.pk}": "1"})  # "back on sale" unticked

    order.refresh_from_db()
    assert order.amount_refunded == 1000
    assert levels(item) == (3, 0)
    # Counted as back all the same: only one more unit can be returned.
    page = _refund(staff, order, restock="on", **{f"returned_{line.pk}": "2"})
    assert "less than or equal to 1" in page
    assert len(webhooks.requests_to("POST", "/v1/refunds")) == 1


def test_a_refund_without_returned_units_and_a_dashboard_refund_return_nothing(
    webhooks: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create(stock=5, price=Decimal("10.00"))
    order = _paid(webhooks, item, 2)
    _refund(staff, order, amount="5.00", restock="on")
    assert levels(item) == (3, 0)

    charge = next(iter(webhooks.resources.charges.values()))
    webhooks.resources.refund(charge["payment_intent"])  # the rest, in Stripe's Dashboard
    assert deliver(event("charge.refunded", charge))
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (Order.Status.REFUNDED, 2000)
    assert levels(item) == (3, 0)
    assert states(order.pk) == [(2, SOLD)]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("25.00", "At most"),
        ("-1", "greater than or equal to 0"),
        ("1.234", "decimal"),
        ("x", "number"),
    ],
)
def test_a_refund_amount_that_cannot_be_refunded_is_a_form_error(
    webhooks: FakeStripe, staff: Client, amount: str, message: str
) -> None:
    order = _paid(webhooks, ItemFactory.create(stock=5, price=Decimal("10.00")), 2)
    page = _refund(staff, order, amount=amount)
    assert message in page
    assert webhooks.requests_to("POST", "/v1/refunds") == []


# --- the storefront -----------------------------------------------------------------------------


def test_the_item_page_says_sold_out_and_disables_buying(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(stock=1)
    buy(Client(), item)
    page = Client().get(f"/item/{item.pk}/").text
    assert "Sold out" in page
    assert 'data-quantity-from="quantity"' in page
    buy_button = page.split('id="buy"')[1].split(">")[0]
    assert "disabled" in buy_button
    assert Client().get(f"/item/{item.pk}/", headers=JSON).json()["sold_out"] is True


def test_the_pages_say_only_n_left_below_the_low_stock_mark(
    fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_LOW_STOCK = 5
    few, many = ItemFactory.create(stock=2), ItemFactory.create(stock=5)
    assert "Only 2 left" in Client().get(f"/item/{few.pk}/").text
    assert "left" not in Client().get(f"/item/{many.pk}/").text.split("price-large")[1][:300]
    catalog = Client().get("/").text
    assert catalog.count("Only 2 left") == 1


def test_the_shared_pages_show_a_sale_within_the_refresh_time(
    fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 0
    item = ItemFactory.create(stock=3)
    assert "Only 3 left" in Client().get(f"/item/{item.pk}/").text
    buy(Client(), item)
    assert "Only 2 left" in Client().get(f"/item/{item.pk}/").text
    buy(Client(), item, 2)
    assert "Sold out" in Client().get(f"/item/{item.pk}/").text


# --- off sale -----------------------------------------------------------------------------------


def test_an_item_off_sale_leaves_the_catalog_and_cannot_be_bought(
    fake_stripe: FakeStripe,
) -> None:
    item = ItemFactory.create(name="Old mug", is_active=False)
    client = Client()
    assert "Old mug" not in client.get("/").text
    page = client.get(f"/item/{item.pk}/")
    assert page.status_code == 404
    assert "Old mug is no longer available." in page.text
    as_json = client.get(f"/item/{item.pk}/", headers=JSON)
    assert (as_json.status_code, as_json.json()) == (
        404,
        {"error": "Old mug is no longer available.", "code": "off_sale"},
    )
    assert buy(client, item).status_code == 409
    assert add(client, item).status_code == 409
    assert Order.objects.count() == 0


def test_an_item_taken_off_sale_while_in_a_cart_stops_its_checkout(
    fake_stripe: FakeStripe,
) -> None:
    old, kept = ItemFactory.create(name="Old mug"), ItemFactory.create(name="Towel")
    client = Client()
    add(client, old)
    order_id = add(client, kept).json()["id"]
    Item.objects.filter(pk=old.pk).update(is_active=False)

    page = client.get(f"/orders/{order_id}/").text
    refused = client.get(f"/orders/{order_id}/buy/", headers=JSON)

    assert "Old mug is no longer on sale: remove it to pay for the rest." in page
    assert refused.status_code == 409
    assert "Old mug is no longer on sale" in refused.json()["error"]
    assert Order.objects.get(pk=order_id).status == Order.Status.OPEN
    line = OrderLine.objects.get(order_id=order_id, item=old)
    client.post(f"/orders/{order_id}/lines/{line.pk}/", {"remove": "1"})
    assert client.get(f"/orders/{order_id}/buy/", headers=JSON).status_code == 200
    # Orders that name it stay intact.
    assert client.get(f"/orders/{order_id}/").status_code == 200


def test_the_admin_offers_off_sale_for_an_item_it_cannot_delete(
    fake_stripe: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create()
    add(Client(), item)
    page = staff.get(f"/admin/catalog/item/{item.pk}/delete/").text
    assert "Take them off sale instead" in page


# --- carts follow the catalog's prices ----------------------------------------------------------


def test_a_cart_charges_the_new_price_and_says_it_changed(fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("9.90"))
    client = Client()
    order_id = add(client, item).json()["id"]
    item.price = Decimal("5.00")
    item.save()

    shown = client.get(f"/orders/{order_id}/", headers=JSON).json()
    page = client.get(f"/orders/{order_id}/").text
    client.get(f"/orders/{order_id}/buy/", headers=JSON)

    assert shown["total"]["amount"] == 500
    assert shown["price_changes"] == [
        {"item_id": item.pk, "name": "Mug", "was": "$9.90", "now": "$5.00"}
    ]
    assert "Mug: $9.90 → $5.00" in page
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert created.params["line_items[0][price_data][unit_amount]"] == "500"
    # Frozen once the payment began: a later change is not charged, and no notice.
    item.price = Decimal("7.00")
    item.save()
    frozen = client.get(f"/orders/{order_id}/", headers=JSON).json()
    assert (frozen["total"]["amount"], frozen["price_changes"]) == (500, [])


# --- the default tax ----------------------------------------------------------------------------


def test_a_tax_that_applies_to_every_order_is_on_new_carts_and_buy_now(
    fake_stripe: FakeStripe,
) -> None:
    everywhere = TaxFactory.create(name="VAT", applies_to_every_order=True, currency="")
    euros = TaxFactory.create(name="MwSt", applies_to_every_order=True, currency="eur")
    TaxFactory.create(name="Other")
    usd, eur = ItemFactory.create(currency="usd"), ItemFactory.create(currency="eur")

    cart = Order.objects.get(pk=add(Client(), usd).json()["id"])
    bought = Order.objects.get(pk=buy(Client(), eur).json()["order_id"])

    assert cart.tax == everywhere
    assert bought.tax == euros
    with pytest.raises(IntegrityError), transaction.atomic():
        TaxFactory.create(name="Second", applies_to_every_order=True, currency="eur")


# --- the admin ----------------------------------------------------------------------------------


def _item_form(item: Item, **changes: str) -> dict[str, str]:
    return {
        "name_en": item.name,
        "description_en": item.description,
        "price": str(item.price),
        "currency": item.currency,
        "is_active": "on",
        "requires_shipping": "on",
        "stock": "" if item.stock is None else str(item.stock),
        "stock_seen": "" if item.stock is None else str(item.stock),
        "image_alt_en": "",
        **changes,
    }


@pytest.mark.parametrize(
    ("stock", "message"),
    [
        ("-1", "greater than or equal to 0"),
        ("ten", "Enter a whole number"),
        ("99999999999", "less than or equal to 10000000"),
        ("1.5", "Enter a whole number"),
    ],
)
def test_the_admin_refuses_a_stock_that_is_no_stock(
    staff: Client, stock: str, message: str
) -> None:
    item = ItemFactory.create(stock=4)
    page = staff.post(f"/admin/catalog/item/{item.pk}/change/", _item_form(item, stock=stock))
    assert page.status_code == 200
    assert message in page.text
    assert levels(item) == (4, 0)


def test_the_admin_keeps_stock_at_least_what_checkouts_hold(
    fake_stripe: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create(stock=4)
    buy(Client(), item, 3)
    form = _item_form(item)  # read while 3 are held

    refused = staff.post(f"/admin/catalog/item/{item.pk}/change/", {**form, "stock": "2"})
    saved = staff.post(f"/admin/catalog/item/{item.pk}/change/", {**form, "stock": "10"})

    assert "3 units are held by checkouts in progress" in refused.text
    assert saved.status_code == 302
    assert levels(item) == (10, 3)  # the save did not write back a reserved figure


def test_the_admin_lists_stock_reserved_and_available_with_filters(
    fake_stripe: FakeStripe, staff: Client, settings: SettingsWrapper
) -> None:
    settings.SHOP_LOW_STOCK = 5
    low = ItemFactory.create(name="Low", stock=3)
    out = ItemFactory.create(name="Out", stock=2)
    plenty = ItemFactory.create(name="Plenty", stock=50)
    ItemFactory.create(name="Untracked")
    buy(Client(), out, 2)

    listing = staff.get("/admin/catalog/item/").text
    low_only = staff.get("/admin/catalog/item/?stock=low").text
    out_only = staff.get("/admin/catalog/item/?stock=out").text

    for column in ("stock", "reserved", "available", "on sale"):
        assert f">{column.capitalize()}<" in listing or column in listing.lower()
    assert f"/admin/catalog/item/{low.pk}/change/" in low_only
    assert f"/admin/catalog/item/{plenty.pk}/change/" not in low_only
    assert f"/admin/catalog/item/{out.pk}/change/" not in low_only
    assert f"/admin/catalog/item/{out.pk}/change/" in out_only
    assert f"/admin/catalog/item/{low.pk}/change/" not in out_only


def test_the_order_page_in_the_admin_lists_its_reservations(
    fake_stripe: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create(name="Mug", stock=4)
    order_id = buy(Client(), item, 2).json()["order_id"]
    page = staff.get(f"/admin/orders/order/{order_id}/change/").text
    assert "Stock reservations" in page
    assert "held" in page


def test_the_database_refuses_more_held_than_in_stock() -> None:
    item = ItemFactory.create(stock=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(reserved=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Item.objects.filter(pk=item.pk).update(stock=-1)


def test_the_currency_filters_list_only_the_currencies_in_use(staff: Client) -> None:
    ItemFactory.create(currency="usd")
    ItemFactory.create(currency="eur")
    Order.objects.create(currency="eur", status=Order.Status.PAID)
    for path, present in [
        ("/admin/catalog/item/", {"usd", "eur"}),
        ("/admin/orders/order/", {"eur"}),
    ]:
        page = staff.get(path, {"status": "paid"} if "order" in path else {}).content.decode()
        offered = {code for code in ("usd", "eur", "jpy", "gbp") if f"currency={code}" in page}
        assert offered == present, path
        shown = {code for code in ("usd", "eur") if f">{code.upper()}</a>" in page}
        assert shown == present, path  # written as prices are, not as stored


def _opened(staff: Client, item: Item) -> dict[str, str]:
    """The item's change page as staff opened it: the fields it would post back."""
    page = staff.get(f"/admin/catalog/item/{item.pk}/change/").text
    seen = re.search(r'<input type="hidden" name="stock_seen"[^>]*>', page)
    assert seen, "the change page carries the stock it showed"
    value = re.search(r'value="(\d*)"', seen.group(0))
    return _item_form(item, stock_seen=value.group(1) if value else "")


def test_a_stale_admin_save_keeps_the_units_sold_meanwhile(
    webhooks: FakeStripe, staff: Client
) -> None:
    """Staff open the page at 20, 5 units sell, staff fix a typo and save: 15 are left, not 20
    again (which would let 25 be paid for with 20 on hand)."""
    item = ItemFactory.create(name="Teapto", stock=20)
    form = _opened(staff, item)
    sold = _paid(webhooks, item, 5)
    assert sold.status == Order.Status.PAID
    assert levels(item) == (15, 0)

    saved = staff.post(
        f"/admin/catalog/item/{item.pk}/change/", {**form, "name_en": "Teapot"}, follow=True
    )

    item.refresh_from_db()
    assert (item.name, item.stock, item.reserved) == ("Teapot", 15, 0)
    assert saved.status_code == 200
    assert "which is now 15" in saved.text


def test_a_stale_admin_save_applies_the_change_staff_made(
    webhooks: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create(stock=20)
    form = _opened(staff, item)
    _paid(webhooks, item, 5)  # sold while the page was open
    buy(Client(), item, 3)  # and 3 held by a checkout

    restocked = staff.post(f"/admin/catalog/item/{item.pk}/change/", {**form, "stock": "30"})

    assert restocked.status_code == 302
    assert levels(item) == (25, 3)  # 20 → 30 on the page: ten more than are on hand now


def test_a_stale_admin_save_cannot_take_units_checkouts_hold(
    webhooks: FakeStripe, staff: Client
) -> None:
    item = ItemFactory.create(stock=10)
    form = _opened(staff, item)
    _paid(webhooks, item, 4)
    buy(Client(), item, 5)  # 6 on hand, 5 of them held

    # Staff took 3 off the 10 the page showed: 3 on hand would be fewer than the 5 held.
    refused = staff.post(f"/admin/catalog/item/{item.pk}/change/", {**form, "stock": "7"})

    assert levels(item) == (6, 5)
    assert refused.status_code == 200
    assert "5 are held by checkouts in progress now" in refused.text
    assert "Set at least 9" in refused.text


def test_an_admin_save_without_the_stock_it_showed_is_refused(staff: Client) -> None:
    """A page opened before the shop sent the figure (or a hand-made post) cannot say what
    changed, so it changes nothing."""
    item = ItemFactory.create(name="Kettle", stock=20)
    form = {k: v for k, v in _item_form(item, name_en="Renamed").items() if k != "stock_seen"}

    refused = staff.post(f"/admin/catalog/item/{item.pk}/change/", form)

    item.refresh_from_db()
    assert (item.name, item.stock) == ("Kettle", 20)
    assert refused.status_code == 200
    assert "This page is out of date" in refused.text


def test_the_admin_starts_and_stops_counting_stock(staff: Client) -> None:
    item = ItemFactory.create()  # not counted
    started = staff.post(
        f"/admin/catalog/item/{item.pk}/change/", {**_opened(staff, item), "stock": "12"}
    )
    assert started.status_code == 302
    assert levels(item) == (12, 0)

    stopped = staff.post(
        f"/admin/catalog/item/{item.pk}/change/", {**_opened(staff, item), "stock": ""}
    )
    assert stopped.status_code == 302
    assert levels(item) == (None, 0)
