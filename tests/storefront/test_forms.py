"""The cart's forms: a bad value is a message on the page, or a 400 in JSON, in the same words
as before the forms existed."""

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from kassa.orders.models import Order
from kassa.payments.methods.checkout_session import cancel_token
from kassa.storefront.forms import (
    AddToCartForm,
    CancelReturnForm,
    DiscountCodeForm,
    LineQuantityForm,
    RemoveDiscountForm,
    RemoveLineForm,
)
from tests.factories import DiscountFactory, ItemFactory
from tests.fake_stripe import FakeStripe
from tests.payments.test_order_checkout import JSON, cart


@pytest.fixture(autouse=True)
def _in_english() -> Iterator[None]:
    """The forms here are checked outside a request: in the language their messages are
    written in, whatever an earlier test's request left active."""
    with translation.override("en"):
        yield


NOT_A_NUMBER = "The quantity must be a whole number."
TO_ADD = "The quantity must be a whole number from 1 to 99."
TO_SET = "The quantity must be a whole number from 0 to 99."
# Arabic-Indic digits, signs, separators, decimals, spaces only, seven digits: none is a quantity.
MALFORMED = ["abc", "١٢", "-1", "+5", "1_000", "1.5", "1e2", "  ", "9999999"]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [*((raw, NOT_A_NUMBER) for raw in MALFORMED), ("0", TO_ADD), ("100", TO_ADD)],
)
def test_the_add_to_cart_form_refuses_what_is_not_a_quantity(quantity: str, message: str) -> None:
    form = AddToCartForm({"quantity": quantity})
    assert not form.is_valid()
    assert form.errors == {"quantity": [message]}


@pytest.mark.parametrize(
    ("data", "quantity"), [({}, 1), ({"quantity": ""}, 1), ({"quantity": " 7 "}, 7)]
)
def test_the_add_to_cart_form_adds_one_unless_told(data: dict[str, str], quantity: int) -> None:
    form = AddToCartForm(data)
    assert form.is_valid()
    assert form.cleaned_data["quantity"] == quantity


def test_a_line_takes_zero_and_the_remove_button_whatever_its_value() -> None:
    assert LineQuantityForm({"quantity": "0"}).is_valid()
    assert LineQuantityForm({"quantity": "100"}).errors == {"quantity": [TO_SET]}
    for value in ("1", "", "0", "false"):
        assert RemoveLineForm({"remove": value}).is_valid()
        assert RemoveDiscountForm({"remove": value}).is_valid()
    assert not RemoveLineForm({"quantity": "2"}).is_valid()
    assert DiscountCodeForm({}).is_valid()  # an empty code is the order's to refuse


SIGNED = cancel_token(order_id=12, attempt=3)


@pytest.mark.parametrize(
    ("query", "valid"),
    [
        ({"order": "12", "attempt": "3", "token": SIGNED}, True),
        ({"order": "12", "attempt": "3"}, False),
        ({"order": "12", "attempt": "4", "token": SIGNED}, False),
        ({"order": "١٢", "attempt": "3", "token": SIGNED}, False),
        ({"order": "12", "token": SIGNED}, False),
        ({"order": "12", "attempt": "1" * 19, "token": SIGNED}, False),
    ],
)
def test_the_cancel_url_query_is_two_ids_and_the_shops_token(
    query: dict[str, str], valid: bool
) -> None:
    assert CancelReturnForm(query).is_valid() is valid


# --- Over HTTP ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("abc", NOT_A_NUMBER),
        ("١٢", NOT_A_NUMBER),
        ("9999999", NOT_A_NUMBER),
        ("0", TO_ADD),
        ("100", TO_ADD),
    ],
)
def test_a_bad_quantity_is_a_400_in_json(client: Client, quantity: str, message: str) -> None:
    item = ItemFactory.create()
    response = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": quantity}, headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"error": message, "code": "invalid"}
    assert not Order.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("quantity", "message"), [("١٢", NOT_A_NUMBER), ("100", TO_ADD)])
def test_a_bad_quantity_from_the_item_page_is_shown_on_it(
    client: Client, quantity: str, message: str
) -> None:
    item = ItemFactory.create()
    response = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": quantity})
    assert response.status_code == 302
    assert response["Location"] == f"/item/{item.pk}/"
    assert message in client.get(response["Location"]).text
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_a_bad_line_quantity_is_refused_and_remove_wins_over_it(client: Client) -> None:
    order = cart(client, (ItemFactory.create().pk, 2))
    line = f"/orders/{order.pk}/lines/{order.lines.get().pk}/"

    for quantity, message in (("abc", NOT_A_NUMBER), ("١", NOT_A_NUMBER), ("100", TO_SET)):
        refused = client.post(line, {"quantity": quantity}, headers=JSON)
        assert (refused.status_code, refused.json()) == (
            400,
            {"error": message, "code": "invalid"},
        )
    page = client.post(line, {"quantity": "1000000"})
    assert page["Location"] == f"/orders/{order.pk}/"
    assert NOT_A_NUMBER in client.get(page["Location"]).text
    assert order.lines.get().quantity == 2

    removed = client.post(line, {"quantity": "abc", "remove": ""}, headers=JSON)
    assert removed.status_code == 200
    assert removed.json()["lines"] == []


@pytest.mark.django_db
def test_the_discount_forms_apply_and_remove(client: Client) -> None:
    DiscountFactory.create(name="Spring", percent_off=Decimal("10"), code="SPRING")
    order = cart(client, (ItemFactory.create(price=Decimal("10")).pk, 1))
    url = f"/orders/{order.pk}/discount/"

    applied = client.post(url, {"code": "spring"})
    assert "Discount “Spring” applied." in client.get(applied["Location"]).text
    refused = client.post(url, {"code": "NOPE"})
    assert "There is no discount code “NOPE”." in client.get(refused["Location"]).text
    assert client.post(url, {"code": "a\x00b"}, headers=JSON).status_code == 400
    removed = client.post(url, {"remove": "1"}, headers=JSON)
    assert removed.json()["discount_name"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["order={order}&attempt=١", "order=١{order}&attempt=1", "order={order}"]
)
def test_a_malformed_cancel_url_cancels_nothing(
    client: Client, fake_stripe: FakeStripe, query: str
) -> None:
    order = cart(client, (ItemFactory.create().pk, 1))
    client.get(f"/orders/{order.pk}/buy/")
    # The token the shop signed for this order's attempt 1: only the malformed ids stand in the way.
    token = cancel_token(order_id=order.pk, attempt=1)
    page = client.get(f"/checkout/cancel/?{query.format(order=order.pk)}&token={token}")
    assert page.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
