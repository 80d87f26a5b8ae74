"""Checkout collects who pays and where it goes; fulfilment records it; staff ship it."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.links import order_token
from kassa.orders.models import Order, ShippingRate
from kassa.payments.models import StripeShippingRate, UnmatchedPayment
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(fake_stripe: FakeStripe, settings: SettingsWrapper) -> FakeStripe:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "RU", "US"]
    return fake_stripe


def deliver(evt: dict[str, Any]) -> None:
    assert post_event(evt).status_code == 200


def buy(client: Client, **item: Any) -> tuple[Order, str]:
    body = client.get(f"/buy/{ItemFactory.create(**item).pk}").json()
    return Order.objects.get(pk=body["order_id"]), body["id"]


def staff_client() -> Client:
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw-for-tests-only")
    client = Client()
    client.force_login(admin)
    return client


def test_checkout_asks_for_an_address_and_offers_the_shops_rates(
    shop: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_COLLECT_PHONE = True
    post = ShippingRate.objects.create(
        name="Post", amount=Decimal("5.00"), currency="usd", min_days=3, max_days=5
    )
    ShippingRate.objects.create(name="Courier", amount=Decimal("15.00"), currency="usd")
    ShippingRate.objects.create(name="Old", amount=Decimal("1.00"), currency="usd", active=False)
    ShippingRate.objects.create(name="Euro post", amount=Decimal("4.00"), currency="eur")

    buy(Client(), price=Decimal("20.00"))
    buy(Client(), price=Decimal("20.00"))

    first, second = shop.requests_to("POST", "/v1/checkout/sessions")
    assert first.body["shipping_address_collection"] == {"allowed_countries": ["DE", "RU", "US"]}
    assert first.body["phone_number_collection"] == {"enabled": "true"}
    offered = [option["shipping_rate"] for option in first.body["shipping_options"]]
    assert [shop.resources.shipping_rates[rate]["display_name"] for rate in offered] == [
        "Post",
        "Courier",
    ]
    post_rate = shop.resources.shipping_rates[offered[0]]
    assert post_rate["fixed_amount"] == {"amount": 500, "currency": "usd"}
    assert post_rate["delivery_estimate"]["minimum"] == {"unit": "day", "value": "3"}
    # Made once per account and terms, then reused: the second checkout makes none.
    assert len(shop.requests_to("POST", "/v1/shipping_rates")) == 2
    assert second.body["shipping_options"] == first.body["shipping_options"]
    assert StripeShippingRate.objects.filter(shipping_rate=post).count() == 1


def test_a_rate_is_free_from_its_amount_on(shop: FakeStripe) -> None:
    ShippingRate.objects.create(
        name="Post", amount=Decimal("5.00"), currency="usd", free_from=Decimal("50.00")
    )
    buy(Client(), price=Decimal("49.99"))
    buy(Client(), price=Decimal("50.00"))
    small, large = shop.requests_to("POST", "/v1/checkout/sessions")
    amounts = [
        shop.resources.shipping_rates[req.body["shipping_options"][0]["shipping_rate"]][
            "fixed_amount"
        ]["amount"]
        for req in (small, large)
    ]
    assert amounts == [500, 0]


def test_digital_goods_ask_for_no_address_and_need_no_fulfilment(shop: FakeStripe) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    order, session_id = buy(Client(), requires_shipping=False)
    [created] = shop.requests_to("POST", "/v1/checkout/sessions")
    assert "shipping_address_collection" not in created.body
    assert "shipping_options" not in created.body
    assert "phone_number_collection" not in created.body  # SHOP_COLLECT_PHONE is off

    deliver(
        event("checkout.session.completed", shop.resources.complete_checkout_session(session_id))
    )
    order.refresh_from_db()
    assert order.fulfilment_status == Order.Fulfilment.NOT_REQUIRED
    assert order.email == "buyer@example.com"
    assert order.shipping_line1 == ""


def test_a_logged_in_customers_email_is_prefilled(shop: FakeStripe) -> None:
    client = Client()
    client.force_login(User.objects.create_user("ada", "ada+shop@example.com", "pw-for-tests"))
    buy(client)
    [created] = shop.requests_to("POST", "/v1/checkout/sessions")
    assert created.body["customer_email"] == "ada+shop@example.com"


def test_the_chosen_rate_is_recorded_and_its_amount_pays_the_order(shop: FakeStripe) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    courier = ShippingRate.objects.create(name="Courier", amount=Decimal("15.00"), currency="usd")
    order, session_id = buy(Client(), price=Decimal("20.00"))
    session = shop.resources.complete_checkout_session(session_id, shipping_option=1)
    assert session["amount_total"] == 3500

    deliver(event("checkout.session.completed", session))

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert not UnmatchedPayment.objects.exists()
    assert order.amount_paid == 3500
    assert (order.shipping_rate, order.shipping_method, order.shipping_amount) == (
        courier,
        "Courier",
        1500,
    )
    assert order.fulfilment_status == Order.Fulfilment.UNFULFILLED
    assert order.shipping_address_lines == [
        "Ada Buyer",
        "1 Main St",
        "Springfield, IL 12345",
        "United States",
    ]


def test_a_payment_for_more_than_goods_and_a_rate_never_pays_the_order(shop: FakeStripe) -> None:
    ShippingRate.objects.create(name="Post", amount=Decimal("5.00"), currency="usd")
    order, session_id = buy(Client(), price=Decimal("20.00"))
    session = shop.resources.complete_checkout_session(session_id)
    tampered = {**session, "amount_total": session["amount_total"] + 100}
    deliver(event("checkout.session.completed", tampered))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert UnmatchedPayment.objects.get().reason == UnmatchedPayment.Reason.AMOUNT_DIFFERS


ODD_ADDRESS: dict[str, str | None] = {
    "line1": "ул. Ленина, д. 5 <script>alert(1)</script>",
    "line2": "кв. 7 & «двор»",
    "city": "Москва",
    "postal_code": "101000",
    "state": "",
    "country": "RU",
}


def test_odd_input_is_stored_as_given_and_shown_escaped(shop: FakeStripe) -> None:
    long_name = "Ж" * 250 + "<b>" + "x" * 247
    order, session_id = buy(Client())
    session = shop.resources.complete_checkout_session(
        session_id, name=long_name, email="ada+shop@example.com", address=ODD_ADDRESS
    )
    deliver(event("checkout.session.completed", session))

    order.refresh_from_db()
    assert len(long_name) == 500
    assert order.customer_name == long_name
    assert order.email == "ada+shop@example.com"
    assert order.phone == ""  # none asked for, none given
    assert order.shipping_line1 == ODD_ADDRESS["line1"]
    assert order.shipping_city == "Москва"

    admin_page = staff_client().get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    customer_page = Client().get(f"/orders/view/{order_token(order)}/").content.decode()
    for page in (admin_page, customer_page):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<script>alert(1)" not in page
        assert "кв. 7 &amp; «двор»" in page
    assert "ada+shop@example.com" in admin_page
    assert "&lt;b&gt;" in admin_page


def test_the_signed_link_opens_that_order_only(shop: FakeStripe) -> None:
    order, session_id = buy(Client())
    other, _ = buy(Client())
    deliver(
        event("checkout.session.completed", shop.resources.complete_checkout_session(session_id))
    )
    token = order_token(order)

    page = Client().get(f"/orders/view/{token}/")
    assert page.status_code == 200
    assert f"#{order.pk}" in page.content.decode()
    assert "Springfield" in page.content.decode()

    number, _, signed = token.partition(":")
    tampered = [
        f"{other.pk}:{signed}",  # another order's number under this order's signature
        f"{number}:{signed[:-1]}{'A' if signed[-1] != 'A' else 'B'}",
        f"{number}:{'x' * len(signed)}",
        order_token(other),  # a real link, but to an order not paid (nothing to show)
        "12",
    ]
    for bad in tampered:
        assert Client().get(f"/orders/view/{bad}/").status_code == 404, bad


def test_staff_find_orders_by_email_name_and_number_and_filter_by_fulfilment(
    shop: FakeStripe,
) -> None:
    order, session_id = buy(Client(), name="Mug")
    session = shop.resources.complete_checkout_session(
        session_id, email="ada+shop@example.com", name="Ада Лавлейс"
    )
    deliver(event("checkout.session.completed", session))
    other, _ = buy(Client(), name="Towel")
    staff = staff_client()

    def listed(query: str) -> list[int]:
        page = staff.get(f"/admin/orders/order/?{query}")
        assert page.status_code == 200
        return [obj.pk for obj in page.context["cl"].result_list]

    assert listed("q=ada%2Bshop%40example.com") == [order.pk]
    assert listed("q=Лавлейс") == [order.pk]
    assert order.pk in listed(f"q={order.pk}")  # (a Stripe id holding the digits matches too)
    assert listed("fulfilment_status__exact=unfulfilled") == [order.pk]
    assert listed("fulfilment_status__exact=shipped") == []
    assert other.pk in listed("status__exact=pending")
    page = staff.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    for shown in ("Customer", "Shipping", "Fulfilment", "1 Main St", "unfulfilled"):
        assert shown in page


def test_the_csv_of_selected_orders_has_who_what_and_where(shop: FakeStripe) -> None:
    order, session_id = buy(Client(), name="Mug")
    session = shop.resources.complete_checkout_session(session_id, name="=HYPERLINK(1)")
    deliver(event("checkout.session.completed", session))

    response = staff_client().post(
        "/admin/orders/order/", {"action": "export_csv", "_selected_action": [order.pk]}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["order"] == str(order.pk)
    assert row["email"] == "buyer@example.com"
    assert row["name"] == "'=HYPERLINK(1)"  # a formula a spreadsheet would run, defused
    assert row["line1"] == "1 Main St"
    assert row["items"] == "1 × Mug"
    assert row["amount_paid"] == "12.34"


def test_paid_orders_cannot_be_deleted_but_carts_can(shop: FakeStripe) -> None:
    paid, session_id = buy(Client())
    deliver(
        event("checkout.session.completed", shop.resources.complete_checkout_session(session_id))
    )
    cart = Order.objects.create(currency="usd")  # abandoned checkouts: clean_abandoned_orders
    staff = staff_client()

    assert staff.get(f"/admin/orders/order/{paid.pk}/delete/").status_code == 403

    def delete(*orders: Order) -> None:
        staff.post(
            "/admin/orders/order/?shown=all",
            {
                "action": "delete_selected",
                "_selected_action": [o.pk for o in orders],
                "post": "yes",
            },
        )

    delete(paid, cart)  # Django refuses the whole selection: it holds an order staff may not delete
    assert Order.objects.filter(pk__in=[paid.pk, cart.pk]).count() == 2
    delete(cart)
    assert not Order.objects.filter(pk=cart.pk).exists()
    delete(paid)
    assert Order.objects.filter(pk=paid.pk).exists()
