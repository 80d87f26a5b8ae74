"""GET /orders/<id>/buy/: one Checkout Session for a whole order, with its discount and tax."""

from decimal import Decimal

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order
from kassa.payments.methods.checkout_session import cancel_token
from kassa.payments.models import StripeCoupon, StripeTaxRate
from tests.attempts import session_of
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}


def cancel_link(fake: FakeStripe, session_id: str) -> str:
    """The cancel link the shop gave Stripe for this session, as the customer's browser opens it."""
    return str(fake.resources.checkout_sessions[session_id]["cancel_url"]).removeprefix(
        "http://testserver"
    )


def cart(client: Client, *items: tuple[int, int]) -> Order:
    for item_id, quantity in items:
        response = client.post(
            f"/item/{item_id}/add-to-order/", {"quantity": quantity}, headers=JSON
        )
        assert response.status_code in (200, 201), response.content
    return Order.objects.get(pk=response.json()["id"])


def test_an_order_becomes_one_session_with_a_line_per_item(
    client: Client, fake_stripe: FakeStripe
) -> None:
    # Digital goods: what Checkout asks of a shipped order is test_fulfilment.py's
    # test_checkout_asks_for_an_address_and_offers_the_shops_rates.
    mug = ItemFactory.create(name="Mug", price=Decimal("14.50"), requires_shipping=False)
    towel = ItemFactory.create(name="Towel", price=Decimal("9.90"), requires_shipping=False)
    order = cart(client, (mug.pk, 2), (towel.pk, 1))

    response = client.get(f"/orders/{order.pk}/buy/")

    assert response.status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert response.json()["id"] == next(iter(fake_stripe.resources.checkout_sessions))
    assert "expires_at" in created.params  # tests/orders/test_stock.py checks its time
    assert {name: value for name, value in created.params.items() if name != "expires_at"} == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "1450",
        "line_items[0][price_data][product_data][name]": "Mug",
        "line_items[0][quantity]": "2",
        "line_items[1][price_data][currency]": "usd",
        "line_items[1][price_data][unit_amount]": "990",
        "line_items[1][price_data][product_data][name]": "Towel",
        "line_items[1][quantity]": "1",
        "client_reference_id": str(order.pk),
        "metadata[order_id]": str(order.pk),
        "payment_intent_data[metadata][order_id]": str(order.pk),
        "success_url": "http://testserver/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"http://testserver/checkout/cancel/?order={order.pk}&attempt=1"
        f"&token={cancel_token(order_id=order.pk, attempt=1)}",
        "locale": "en",
        "tax_id_collection[enabled]": "true",
        "consent_collection[promotions]": "auto",
    }
    session = fake_stripe.resources.checkout_sessions[response.json()["id"]]
    assert session["amount_total"] == 3890
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert session_of(order) == session["id"]


def test_discount_and_tax_reach_checkout_and_totals_match(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(price=Decimal("19.99"))
    order = cart(client, (item.pk, 3))
    order.discount = DiscountFactory.create(name="Welcome", percent_off=Decimal("15"))
    order.tax = TaxFactory.create(name="VAT", percentage=Decimal("20"), inclusive=False)
    order.save()

    shown = client.get(f"/orders/{order.pk}/", headers=JSON).json()
    response = client.get(f"/orders/{order.pk}/buy/")

    assert response.status_code == 200
    [coupon_call] = fake_stripe.requests_to("POST", "/v1/coupons")
    assert coupon_call.params == {"name": "Welcome", "duration": "once", "percent_off": "15.0"}
    [tax_call] = fake_stripe.requests_to("POST", "/v1/tax_rates")
    assert tax_call.params == {"display_name": "VAT", "percentage": "20.0", "inclusive": "false"}
    [session_call] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    coupon_id = next(iter(fake_stripe.resources.coupons))
    tax_rate_id = next(iter(fake_stripe.resources.tax_rates))
    assert session_call.params["discounts[0][coupon]"] == coupon_id
    assert session_call.params["line_items[0][tax_rates][0]"] == tax_rate_id
    session = fake_stripe.resources.checkout_sessions[response.json()["id"]]
    # 59.97 − 15% (9.00) = 50.97; + 20% VAT (10.19) = 61.16
    assert [shown[key]["amount"] for key in ("subtotal", "discount", "tax", "total")] == [
        5997,
        900,
        1019,
        6116,
    ]
    assert session["amount_total"] == 6116
    assert session["total_details"]["amount_discount"] == 900
    assert session["total_details"]["amount_tax"] == 1019


def test_coupons_and_tax_rates_are_made_once_and_reused(
    client: Client, fake_stripe: FakeStripe
) -> None:
    discount = DiscountFactory.create(percent_off=Decimal("10"))
    tax = TaxFactory.create()
    item = ItemFactory.create()
    for _ in range(3):
        shopper = Client()
        order = cart(shopper, (item.pk, 1))
        order.discount, order.tax = discount, tax
        order.save()
        assert shopper.get(f"/orders/{order.pk}/buy/").status_code == 200

    assert len(fake_stripe.requests_to("POST", "/v1/coupons")) == 1
    assert len(fake_stripe.requests_to("POST", "/v1/tax_rates")) == 1
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 3
    coupon_ids = {
        r.params["discounts[0][coupon]"]
        for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    }
    assert coupon_ids == {StripeCoupon.objects.get().stripe_id}
    assert StripeTaxRate.objects.count() == 1


def test_editing_a_discounts_terms_makes_a_new_coupon(
    client: Client, fake_stripe: FakeStripe
) -> None:
    discount = DiscountFactory.create(percent_off=Decimal("10"))
    item = ItemFactory.create()

    def buy_with_discount() -> str:
        shopper = Client()
        order = cart(shopper, (item.pk, 1))
        order.discount = discount
        order.save()
        assert shopper.get(f"/orders/{order.pk}/buy/").status_code == 200
        return fake_stripe.requests_to("POST", "/v1/checkout/sessions")[-1].params[
            "discounts[0][coupon]"
        ]

    first = buy_with_discount()
    discount.percent_off = Decimal("12.5")
    discount.save()
    second = buy_with_discount()
    third = buy_with_discount()

    assert first != second == third
    assert fake_stripe.resources.coupons[second]["percent_off"] == "12.5"
    assert StripeCoupon.objects.filter(discount=discount).count() == 2


def test_each_account_gets_its_own_coupon(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_KEYS_BY_CURRENCY = {"eur": {"secret": "sk_test_eur", "publishable": "pk_eur"}}
    discount = DiscountFactory.create(percent_off=Decimal("10"))
    for currency in ("usd", "eur"):
        shopper = Client()
        order = cart(shopper, (ItemFactory.create(currency=currency).pk, 1))
        order.discount = discount
        order.save()
        assert shopper.get(f"/orders/{order.pk}/buy/").status_code == 200

    keys = [r.api_key for r in fake_stripe.requests_to("POST", "/v1/coupons")]
    assert sorted(keys) == ["sk_test_default_account_secret", "sk_test_eur"]
    session_keys = [r.api_key for r in fake_stripe.requests_to("POST", "/v1/checkout/sessions")]
    assert session_keys == ["sk_test_default_account_secret", "sk_test_eur"]


def test_a_fixed_amount_discount_in_a_zero_decimal_currency(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create(currency="jpy", price=Decimal("1800"))
    order = cart(client, (item.pk, 2))
    order.discount = DiscountFactory.create(
        kind="amount", percent_off=None, amount_off=Decimal("500"), currency="jpy"
    )
    order.save()

    shown = client.get(f"/orders/{order.pk}/", headers=JSON).json()
    response = client.get(f"/orders/{order.pk}/buy/")

    [coupon_call] = fake_stripe.requests_to("POST", "/v1/coupons")
    assert coupon_call.params["amount_off"] == "500"
    assert coupon_call.params["currency"] == "jpy"
    session = fake_stripe.resources.checkout_sessions[response.json()["id"]]
    assert shown["total"]["amount"] == 3100
    assert session["amount_total"] == 3100


def test_an_empty_order_cannot_be_bought(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    order = cart(client, (item.pk, 1))
    line = order.lines.get()
    client.post(f"/orders/{order.pk}/lines/{line.pk}/", {"remove": "1"})

    response = client.get(f"/orders/{order.pk}/buy/")

    assert response.status_code == 409
    assert "empty" in response.json()["error"]
    assert fake_stripe.requests == []
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


def test_a_pending_order_cannot_be_edited(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    order = cart(client, (item.pk, 1))
    assert client.get(f"/orders/{order.pk}/buy/").status_code == 200
    line = order.lines.get()

    changed = client.post(f"/orders/{order.pk}/lines/{line.pk}/", {"quantity": "5"}, headers=JSON)
    code = client.post(f"/orders/{order.pk}/discount/", {"code": "X"}, headers=JSON)

    assert changed.status_code == 409
    assert code.status_code == 409
    assert "checkout has started" in changed.json()["error"]
    line.refresh_from_db()
    assert line.quantity == 1


def test_adding_after_checkout_started_starts_a_new_cart(
    client: Client, fake_stripe: FakeStripe
) -> None:
    item = ItemFactory.create()
    first = cart(client, (item.pk, 1))
    client.get(f"/orders/{first.pk}/buy/")
    second = cart(client, (item.pk, 2))
    assert second.pk != first.pk
    assert first.lines.get().quantity == 1


def test_buying_again_answers_the_same_open_session(
    client: Client, fake_stripe: FakeStripe
) -> None:
    """A second tab, a reload or a link from another site must not expire the session the
    customer may be paying through."""
    order = cart(client, (ItemFactory.create().pk, 1))
    first = client.get(f"/orders/{order.pk}/buy/").json()
    second = client.get(f"/orders/{order.pk}/buy/").json()

    assert second == first
    assert fake_stripe.resources.checkout_sessions[first["id"]]["status"] == "open"
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert order.payment_attempts.count() == 1


def test_buying_again_after_the_session_lapsed_starts_a_new_one(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    first = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    fake_stripe.resources.checkout_sessions[first]["status"] = "expired"  # its webhook is late

    second = client.get(f"/orders/{order.pk}/buy/").json()["id"]

    assert second != first
    assert fake_stripe.resources.checkout_sessions[second]["status"] == "open"
    order.refresh_from_db()
    assert session_of(order) == second


def test_buying_a_paid_session_again_is_refused(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    first = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    fake_stripe.resources.complete_checkout_session(first)

    response = client.get(f"/orders/{order.pk}/buy/")

    assert response.status_code == 409
    assert "already been paid" in response.json()["error"]
    assert len(fake_stripe.resources.checkout_sessions) == 1


def test_reopening_expires_the_session_and_makes_the_cart_editable(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]

    response = client.post(f"/orders/{order.pk}/reopen/")

    assert response.status_code == 302
    assert fake_stripe.resources.checkout_sessions[session_id]["status"] == "expired"
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    line = order.lines.get()
    changed = client.post(f"/orders/{order.pk}/lines/{line.pk}/", {"quantity": "2"}, headers=JSON)
    assert changed.status_code == 200


def test_the_cancel_page_gives_the_cart_back(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]

    page = client.get(cancel_link(fake_stripe, session_id))

    assert f'href="/orders/{order.pk}/"' in page.text
    assert fake_stripe.resources.checkout_sessions[session_id]["status"] == "expired"
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN


def test_a_stranger_cannot_cancel_someone_elses_checkout(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    Client().get(cancel_link(fake_stripe, session_id))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_an_old_attempts_cancel_link_leaves_the_current_checkout_alone(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    first = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    fake_stripe.resources.checkout_sessions[first]["status"] = "expired"  # lapsed at Stripe
    second = client.get(f"/orders/{order.pk}/buy/").json()["id"]  # Buy again, in a new tab

    client.get(cancel_link(fake_stripe, first))  # the first tab's Back link

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert session_of(order) == second
    assert fake_stripe.resources.checkout_sessions[second]["status"] == "open"
    client.get(cancel_link(fake_stripe, second))
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert fake_stripe.resources.checkout_sessions[second]["status"] == "expired"


@pytest.mark.parametrize("token", ["", "forged", "{other}"])
def test_a_cancel_link_the_shop_did_not_make_cancels_nothing(
    client: Client, fake_stripe: FakeStripe, token: str
) -> None:
    """A top-level link from another site carries the visitor's Lax cookie: without the token
    the shop signed for this attempt, it must not reopen their order."""
    order = cart(client, (ItemFactory.create().pk, 1))
    session_id = client.get(f"/orders/{order.pk}/buy/").json()["id"]
    token = token.format(other=cancel_token(order_id=order.pk, attempt=2))

    page = client.get(f"/checkout/cancel/?order={order.pk}&attempt=1&token={token}")

    assert page.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert fake_stripe.resources.checkout_sessions[session_id]["status"] == "open"


def test_stripe_failing_leaves_the_cart_open(client: Client, fake_stripe: FakeStripe) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    fake_stripe.fail_next(status=503, times=10)

    response = client.get(f"/orders/{order.pk}/buy/")

    assert response.status_code == 503
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert session_of(order) == ""


def test_a_code_switched_off_in_the_cart_stops_checkout_until_removed(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("10.00")).pk, 1))
    order.discount = DiscountFactory.create(percent_off=Decimal("10"), active=False)
    order.save()
    shown = client.get(f"/orders/{order.pk}/", headers=JSON).json()
    assert shown["total"]["amount"] == 1000
    assert shown["problems"] == ["This code is no longer active."]

    response = client.get(f"/orders/{order.pk}/buy/")

    assert response.status_code == 409
    assert response.json()["error"] == "This code is no longer active."
    assert fake_stripe.requests_to("POST", "/v1/checkout/sessions") == []
    order.refresh_from_db()
    assert order.status == Order.Status.OPEN
    assert order.discount is not None  # the customer sees why, and removes it

    client.post(f"/orders/{order.pk}/discount/", {"remove": "1"}, headers=JSON)
    paid = client.get(f"/orders/{order.pk}/buy/")
    assert paid.status_code == 200
    assert fake_stripe.resources.checkout_sessions[paid.json()["id"]]["amount_total"] == 1000


def test_a_started_checkout_keeps_its_discount_when_the_code_is_switched_off(
    client: Client, fake_stripe: FakeStripe
) -> None:
    order = cart(client, (ItemFactory.create(price=Decimal("10.00")).pk, 1))
    order.discount = discount = DiscountFactory.create(percent_off=Decimal("10"))
    order.save()
    assert client.get(f"/orders/{order.pk}/buy/").status_code == 200
    discount.active = False
    discount.save()

    again = client.get(f"/orders/{order.pk}/buy/")

    assert again.status_code == 200
    second = fake_stripe.requests_to("POST", "/v1/checkout/sessions")[-1]
    assert "discounts[0][coupon]" in second.params
    assert fake_stripe.resources.checkout_sessions[again.json()["id"]]["amount_total"] == 900
    assert client.get(f"/orders/{order.pk}/", headers=JSON).json()["total"]["amount"] == 900
