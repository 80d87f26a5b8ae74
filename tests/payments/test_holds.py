"""Stock cannot be held hostage: what one visitor and one address may hold in payments not yet
made is capped, a cookie-less script's repeated click gets the payment it started, and staff
see the units held and can put them back on sale."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog.models import Item
from kassa.orders.models import Order, Reservation
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


@pytest.fixture(autouse=True)
def caps(settings: SettingsWrapper, fake_stripe: FakeStripe) -> None:
    settings.SHOP_HOLD_LIMIT_VISITOR = 10
    settings.SHOP_HOLD_LIMIT_ADDRESS = 20
    settings.SHOP_BUY_AGAIN_SECONDS = 10
    # The caps, not the rate of clicks, are under test: the rates are loosened, not switched off
    # (SHOP_THROTTLE=false, the tests' default, turns the caps off too).
    settings.SHOP_THROTTLE = True
    settings.SHOP_THROTTLE_BUY_PER_VISITOR = "1000/m"
    settings.SHOP_THROTTLE_BUY_PER_ADDRESS = "1000/m"


def click(address: str, item: Item, quantity: int, client: Client | None = None) -> Any:
    """A Buy click; without `client`, from a client keeping no cookie (a script)."""
    client = client or Client(REMOTE_ADDR=address)
    return client.get(f"/buy/{item.pk}?quantity={quantity}", headers=JSON)


def held(item: Item) -> int:
    item.refresh_from_db()
    return item.reserved


def test_a_script_holding_units_is_refused_past_the_cap_and_buyers_get_the_rest(
    fake_stripe: FakeStripe,
) -> None:
    sale = ItemFactory.create(stock=60)
    script = ["203.0.113.5", "203.0.113.6"]

    answers = [click(address, sale, q) for address in script for q in (9, 8, 7, 6, 5, 4, 3, 2)]

    refused = [a for a in answers if a.status_code == 409]
    assert refused
    assert {a.json()["code"] for a in refused} == {"hold_limit"}
    assert "from your network" in refused[0].json()["error"]
    assert {a.status_code for a in answers} == {200, 409}
    # Each address holds at most its cap: 9 + 8, then only what still fits (3).
    per_address = [
        sum(r.quantity for r in Reservation.objects.filter(state="held", order__placed_from=key))
        for key in set(Order.objects.values_list("placed_from", flat=True))
    ]
    assert per_address == [20, 20]
    assert held(sale) == 40

    # Real buyers, each in their own browser on their own network, get the other 20.
    for n in range(20):
        assert (
            click(f"198.51.100.{n}", sale, 1, Client(REMOTE_ADDR=f"198.51.100.{n}")).status_code
            == 200
        )
    assert held(sale) == 60
    assert click("198.51.100.99", sale, 1).json()["code"] == "out_of_stock"


def test_one_visitor_holds_at_most_their_cap_until_they_pay_or_cancel(
    fake_stripe: FakeStripe,
) -> None:
    browser = Client(REMOTE_ADDR="198.51.100.7")
    mugs, cups = ItemFactory.create(stock=50), ItemFactory.create(stock=50)
    first = click("", mugs, 6, browser)
    assert first.status_code == 200

    refused = click("", cups, 5, browser)

    assert refused.status_code == 409
    assert refused.json()["code"] == "hold_limit"
    assert "at most 10 units" in refused.json()["error"]
    assert "6 are waiting for payment" in refused.json()["error"]
    assert held(cups) == 0
    assert fake_stripe.requests_to("POST", "/v1/checkout/sessions").__len__() == 1
    assert click("", cups, 4, browser).status_code == 200  # what still fits

    # Cancelling the first payment gives its units back, and the room to hold them.
    [cancel_url] = [
        r.body["cancel_url"]
        for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")
        if r.body["line_items"][0]["quantity"] == "6"
    ]
    assert browser.get(cancel_url.removeprefix("http://testserver")).status_code < 400
    assert held(mugs) == 0
    assert click("", cups, 5, browser).status_code == 200


def test_a_signed_in_customers_cap_counts_every_browser_of_theirs(
    fake_stripe: FakeStripe,
) -> None:
    ada = User.objects.create_user("ada", "ada@example.com", "pw-for-tests")
    phone, laptop = Client(REMOTE_ADDR="198.51.100.8"), Client(REMOTE_ADDR="192.0.2.8")
    phone.force_login(ada)
    laptop.force_login(ada)
    item = ItemFactory.create(stock=50)
    other = ItemFactory.create(stock=50)
    assert click("", item, 7, phone).status_code == 200
    assert click("", other, 4, laptop).json()["code"] == "hold_limit"


def test_a_cart_is_capped_as_buy_now_is(fake_stripe: FakeStripe) -> None:
    browser = Client(REMOTE_ADDR="198.51.100.9")
    item = ItemFactory.create(stock=50)
    added = browser.post(f"/item/{item.pk}/add-to-order/", {"quantity": 11}, headers=JSON)
    order_id = added.json()["id"]

    refused = browser.get(f"/orders/{order_id}/buy/")

    assert refused.status_code == 409
    assert refused.json()["code"] == "hold_limit"
    assert fake_stripe.requests_to("POST", "/v1/checkout/sessions") == []
    assert Order.objects.get(pk=order_id).status == Order.Status.OPEN
    assert held(item) == 0


def test_a_cookie_less_click_again_gets_the_payment_it_started(
    fake_stripe: FakeStripe,
) -> None:
    sale = ItemFactory.create(stock=100)
    first = click("203.0.113.9", sale, 5).json()
    again = click("203.0.113.9", sale, 5).json()

    assert again["order_id"] == first["order_id"]
    assert again["id"] == first["id"]
    assert held(sale) == 5
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1
    # Another address, another quantity, or later than the window: a purchase of its own.
    assert click("203.0.113.10", sale, 5).json()["order_id"] != first["order_id"]
    assert click("203.0.113.9", sale, 4).json()["order_id"] != first["order_id"]
    Order.objects.filter(pk=first["order_id"]).update(
        created_at=timezone.now() - timedelta(seconds=11)
    )
    assert click("203.0.113.9", sale, 5).json()["order_id"] != first["order_id"]


@pytest.mark.parametrize("how", ["caps at 0", "SHOP_THROTTLE off"])
def test_the_caps_can_be_turned_off(
    fake_stripe: FakeStripe, settings: SettingsWrapper, how: str
) -> None:
    if how == "caps at 0":
        settings.SHOP_HOLD_LIMIT_VISITOR = 0
        settings.SHOP_HOLD_LIMIT_ADDRESS = 0
    else:
        settings.SHOP_THROTTLE = False
    sale = ItemFactory.create(stock=100)
    assert all(click("203.0.113.5", sale, q).status_code == 200 for q in (30, 29, 28))
    assert held(sale) == 87


def test_staff_see_the_units_held_and_put_them_back_on_sale(fake_stripe: FakeStripe) -> None:
    sale = ItemFactory.create(name="Flash mug", stock=30)
    script = click("203.0.113.5", sale, 9).json()
    buyer = click("198.51.100.1", sale, 2, Client(REMOTE_ADDR="198.51.100.1")).json()
    boss = User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    staff = Client()
    staff.force_login(boss)

    page = staff.get("/admin/orders/reservation/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Flash mug" in text
    script_order = Order.objects.get(pk=script["order_id"])
    assert script_order.placed_from in text  # who holds it: the network's digest
    assert "203.0.113.5" not in text  # never the address itself
    found = staff.get("/admin/orders/reservation/", {"q": script_order.placed_from})
    assert found.content.decode().count("Flash mug") == 1

    [row] = Reservation.objects.filter(order=script_order, state="held")
    answer = staff.post(
        "/admin/orders/reservation/",
        {"action": "release", "_selected_action": [row.pk]},
        follow=True,
    )

    assert "units are on sale again" in answer.content.decode()
    assert held(sale) == 2  # the buyer's still held
    assert fake_stripe.requests_to("POST", f"/v1/checkout/sessions/{script['id']}/expire")
    script_order.refresh_from_db()
    assert script_order.status != Order.Status.PENDING
    assert Order.objects.get(pk=buyer["order_id"]).status == Order.Status.PENDING


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("low_stock", [5, 1000])
def test_a_scripts_clicks_at_once_are_counted_one_after_the_other(
    fake_stripe: FakeStripe, settings: SettingsWrapper, low_stock: int
) -> None:
    """Also where every click leaves the item "low" (1000): then each click's first statement
    ends its transaction without taking a unit, and the cap is checked again in the next."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests are checked in the PostgreSQL pass (make test-postgres)")
    settings.SHOP_LOW_STOCK = low_stock
    sale = ItemFactory.create(stock=200)
    answers: list[Any] = []
    go = threading.Barrier(8)

    def script(quantity: int) -> None:
        try:
            go.wait()
            answers.append(click("203.0.113.5", sale, quantity))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=script, args=(q,)) for q in range(2, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 8
    assert {a.status_code for a in answers} == {200, 409}
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"hold_limit"}
    assert 0 < held(sale) <= 20  # the cap, however the clicks interleaved
    # A buyer elsewhere is not held up by the script's network.
    assert click("198.51.100.3", sale, 1).status_code == 200
