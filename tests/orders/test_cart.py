"""The cart: adding, changing and owning orders, over HTTP."""

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from django.test import Client

from kassa.orders.models import Order
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.html import csrf_token_in

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}


def add(
    client: Client, item_id: int, quantity: int | str | None = None
) -> "_MonkeyPatchedWSGIResponse":
    data = {} if quantity is None else {"quantity": str(quantity)}
    return client.post(f"/item/{item_id}/add-to-order/", data, headers=JSON)


def test_the_first_add_creates_the_cart_and_later_adds_fill_it(client: Client) -> None:
    mug = ItemFactory.create(price=Decimal("14.50"))
    towel = ItemFactory.create(price=Decimal("9.90"))

    first = add(client, mug.pk)
    assert first.status_code == 201
    order_id = first.json()["id"]
    second = add(client, towel.pk, 2)
    assert second.status_code == 200
    third = add(client, mug.pk)

    body = third.json()
    assert body["id"] == order_id
    assert body["status"] == "open"
    assert body["currency"] == "usd"
    assert [(line["item_id"], line["quantity"]) for line in body["lines"]] == [
        (mug.pk, 2),
        (towel.pk, 2),
    ]
    assert body["subtotal"]["amount"] == body["total"]["amount"] == 4880
    assert body["item_count"] == 4
    assert Order.objects.count() == 1


def test_adding_through_the_html_form_redirects_to_the_cart(client: Client) -> None:
    item = ItemFactory.create(name="Brass pencil")
    response = client.post(f"/item/{item.pk}/add-to-order/", {"quantity": "3"})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    page = client.get(response["Location"])
    assert "Brass pencil is in your cart." in page.text
    assert '<span class="badge" id="cart-count" aria-label="3 items">3</span>' in page.text


def test_every_page_shows_the_cart_count(client: Client) -> None:
    item = ItemFactory.create()
    assert 'id="cart-count" aria-label="0 items">0<' in client.get("/").text
    add(client, item.pk, 5)
    for path in ("/", f"/item/{item.pk}", "/orders/"):
        assert 'id="cart-count" aria-label="5 items">5<' in client.get(path).text


def test_the_header_counts_every_line_of_the_newest_open_order_only(client: Client) -> None:
    mug, cup = ItemFactory.create_batch(2)
    first = add(client, mug.pk, 4).json()
    Order.objects.filter(pk=first["id"]).update(status=Order.Status.PAID)  # no longer a cart
    add(client, mug.pk, 2)
    cart = add(client, cup.pk, 3).json()
    page = client.get("/").text
    assert 'id="cart-count" aria-label="5 items">5<' in page
    assert f'href="/orders/{cart["id"]}/" class="cart-link"' in page


def test_an_item_in_another_currency_is_refused_and_the_cart_is_unchanged(client: Client) -> None:
    usd_item = ItemFactory.create(currency="usd")
    eur_item = ItemFactory.create(currency="eur", price=Decimal("5"))
    before = add(client, usd_item.pk).json()

    refused = add(client, eur_item.pk)

    assert refused.status_code == 409
    assert "USD" in refused.json()["error"]
    assert "EUR" in refused.json()["error"]
    after = client.get(f"/orders/{before['id']}/", headers=JSON).json()
    assert after == before
    assert Order.objects.count() == 1


@pytest.mark.parametrize("quantity", ["0", "-1", "100", "abc", "1.5", "9999999"])
def test_a_bad_quantity_is_a_400_and_adds_nothing(client: Client, quantity: str) -> None:
    item = ItemFactory.create()
    response = add(client, item.pk, quantity)
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]
    assert not Order.objects.filter(lines__isnull=False).exists()


def test_a_line_cannot_grow_past_the_limit(client: Client) -> None:
    item = ItemFactory.create()
    add(client, item.pk, 60)
    assert add(client, item.pk, 40).status_code == 400
    assert client.get("/orders/", headers=JSON).json()["orders"][0]["item_count"] == 60


def test_an_order_larger_than_stripe_can_charge_is_refused(client: Client) -> None:
    item = ItemFactory.create(price=Decimal("999999.99"))
    assert add(client, item.pk, 1).status_code == 201
    assert add(client, item.pk, 1).status_code == 400


def test_the_limit_counts_exclusive_tax(client: Client) -> None:
    item = ItemFactory.create(price=Decimal("450000.00"))
    cart = add(client, item.pk, 1).json()
    Order.objects.filter(pk=cart["id"]).update(tax=TaxFactory.create(percentage=Decimal("20")))
    # 900,000.00 before tax fits Stripe's limit of 999,999.99; with 20% tax on top it does not.
    refused = add(client, item.pk, 1)
    assert refused.status_code == 400
    assert client.get(f"/orders/{cart['id']}/", headers=JSON).json()["item_count"] == 1


def test_an_emptied_cart_takes_the_next_items_currency(client: Client) -> None:
    usd_item = ItemFactory.create(currency="usd")
    eur_item = ItemFactory.create(currency="eur", price=Decimal("5"))
    cart = add(client, usd_item.pk).json()
    fixed = DiscountFactory.create(
        kind="amount", percent_off=None, amount_off=Decimal("1"), currency="usd"
    )
    Order.objects.filter(pk=cart["id"]).update(discount=fixed)
    client.post(f"/orders/{cart['id']}/lines/{cart['lines'][0]['id']}/", {"quantity": "0"})

    added = add(client, eur_item.pk)

    assert added.status_code == 200
    assert added.json()["id"] == cart["id"]
    assert added.json()["currency"] == "eur"
    assert added.json()["total"]["amount"] == 500  # the dollar discount went with the dollars
    assert Order.objects.get().discount is None


def test_a_cart_made_before_login_becomes_the_accounts(client: Client) -> None:
    from django.contrib.auth.models import User

    user = User.objects.create_user("ann", password="pw-for-tests-only")
    mug, cup = ItemFactory.create_batch(2)
    cart = add(client, mug.pk).json()
    client.login(username="ann", password="pw-for-tests-only")
    add(client, cup.pk)
    assert Order.objects.get(pk=cart["id"]).user == user


def test_adding_an_unknown_item_is_a_404(client: Client) -> None:
    response = add(client, 424242)
    assert response.status_code == 404
    assert response.json() == {"error": "There is no such item.", "code": "not_found"}
    assert not Order.objects.exists()


def test_add_to_order_only_answers_post(client: Client) -> None:
    item = ItemFactory.create()
    assert client.get(f"/item/{item.pk}/add-to-order/").status_code == 405


def test_add_to_order_is_csrf_protected() -> None:
    item = ItemFactory.create()
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/item/{item.pk}/add-to-order/").status_code == 403
    assert not Order.objects.exists()
    page = client.get(f"/item/{item.pk}")
    token = csrf_token_in(page.text)
    response = client.post(f"/item/{item.pk}/add-to-order/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Order.objects.count() == 1


def test_quantities_can_be_changed_and_lines_removed(client: Client) -> None:
    mug = ItemFactory.create(price=Decimal("2"))
    towel = ItemFactory.create(price=Decimal("3"))
    add(client, mug.pk)
    order = add(client, towel.pk).json()
    mug_line, towel_line = (line["id"] for line in order["lines"])
    url = f"/orders/{order['id']}/lines"

    changed = client.post(f"{url}/{mug_line}/", {"quantity": "4"}, headers=JSON).json()
    assert [line["quantity"] for line in changed["lines"]] == [4, 1]
    assert changed["total"]["amount"] == 1100

    removed = client.post(f"{url}/{towel_line}/", {"remove": "1"}, headers=JSON).json()
    assert [line["id"] for line in removed["lines"]] == [mug_line]

    zero = client.post(f"{url}/{mug_line}/", {"quantity": "0"}, headers=JSON).json()
    assert zero["lines"] == []
    assert zero["total"]["amount"] == 0


def test_changing_a_line_of_another_order_is_refused(client: Client) -> None:
    item = ItemFactory.create()
    mine = add(client, item.pk).json()
    other_client = Client()
    theirs = add(other_client, item.pk).json()
    their_line = theirs["lines"][0]["id"]

    response = client.post(
        f"/orders/{mine['id']}/lines/{their_line}/", {"quantity": "5"}, headers=JSON
    )

    assert response.status_code == 400
    assert (
        other_client.get(f"/orders/{theirs['id']}/", headers=JSON).json()["lines"][0]["quantity"]
        == 1
    )


def test_a_stranger_gets_a_404_for_someone_elses_order(client: Client) -> None:
    item = ItemFactory.create()
    order = add(client, item.pk).json()
    stranger = Client()
    stranger.get("/")  # a visitor with a session of their own

    assert stranger.get(f"/orders/{order['id']}/").status_code == 404
    json_answer = stranger.get(f"/orders/{order['id']}/", headers=JSON)
    assert json_answer.status_code == 404
    assert json_answer.json() == {"error": "There is no such order.", "code": "not_found"}
    assert stranger.get(f"/orders/{order['id']}/buy/").status_code == 404
    assert stranger.post(f"/orders/{order['id']}/discount/", {"code": "X"}).status_code == 404
    line = order["lines"][0]["id"]
    assert stranger.post(f"/orders/{order['id']}/lines/{line}/", {"quantity": 3}).status_code == 404
    assert stranger.get("/orders/", headers=JSON).json() == {"orders": []}


def test_orders_list_shows_only_my_orders_with_status_and_total(client: Client) -> None:
    item = ItemFactory.create(price=Decimal("7.25"))
    add(client, item.pk, 2)
    add(Client(), item.pk, 9)

    listing = client.get("/orders/", headers=JSON).json()["orders"]
    assert [(order["status"], order["total"]["amount"]) for order in listing] == [("open", 1450)]
    page = client.get("/orders/")
    assert "$14.50" in page.text
    assert "$65.25" not in page.text


def test_orders_follow_the_user_across_browsers(client: Client) -> None:
    from django.contrib.auth.models import User

    User.objects.create_user("ann", password="pw-for-tests-only")
    item = ItemFactory.create()
    client.login(username="ann", password="pw-for-tests-only")
    order = add(client, item.pk).json()

    laptop = Client()
    laptop.login(username="ann", password="pw-for-tests-only")
    assert laptop.get(f"/orders/{order['id']}/", headers=JSON).status_code == 200


def test_a_cart_follows_the_items_current_price(client: Client) -> None:
    """Until its payment begins (tests/orders/test_stock.py: the notice, and the frozen lines)."""
    item = ItemFactory.create(price=Decimal("10"))
    order = add(client, item.pk).json()
    item.price = Decimal("12")
    item.save()
    assert client.get(f"/orders/{order['id']}/", headers=JSON).json()["total"]["amount"] == 1200


@pytest.mark.parametrize("raw_id", ["999999", "abc"])
def test_unknown_order_is_a_404(client: Client, raw_id: str) -> None:
    assert client.get(f"/orders/{raw_id}/").status_code == 404
    assert client.get(f"/orders/{raw_id}", headers=JSON).json() == {
        "error": "There is no such order.",
        "code": "not_found",
    }


def test_a_discount_code_typed_in_the_cart_applies_its_discount(client: Client) -> None:
    DiscountFactory.create(name="Spring", percent_off=Decimal("25"), code="SPRING25")
    item = ItemFactory.create(price=Decimal("20"))
    order = add(client, item.pk).json()

    applied = client.post(f"/orders/{order['id']}/discount/", {"code": " spring25 "}, headers=JSON)

    body = applied.json()
    assert applied.status_code == 200
    assert [body[key]["amount"] for key in ("subtotal", "discount", "total")] == [2000, 500, 1500]
    assert body["discount_name"] == "Spring"
    removed = client.post(f"/orders/{order['id']}/discount/", {"remove": "1"}, headers=JSON).json()
    assert removed["discount"]["amount"] == 0


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("", "Type a discount code."),
        ("NOPE", "There is no discount code “NOPE”."),
        ("OLD", "This code is no longer active."),
        ("EURO5", "This code is for orders in EUR."),
    ],
)
def test_an_invalid_discount_code_is_refused_saying_why(
    client: Client, code: str, error: str
) -> None:
    DiscountFactory.create(code="OLD", active=False)
    DiscountFactory.create(
        code="EURO5",
        kind="amount",
        percent_off=None,
        amount_off=Decimal("5"),
        currency="eur",
    )
    item = ItemFactory.create(currency="usd")
    order = add(client, item.pk).json()
    response = client.post(f"/orders/{order['id']}/discount/", {"code": code}, headers=JSON)
    assert response.status_code == 400
    assert response.json() == {"error": error, "code": "invalid_discount_code"}


def test_a_code_switched_off_in_the_cart_says_so_instead_of_applied(client: Client) -> None:
    add(client, ItemFactory.create(price=Decimal("10.00")).pk)
    order = Order.objects.get()
    order.discount = discount = DiscountFactory.create(name="Spring", percent_off=Decimal("10"))
    order.save()
    assert "Discount applied:" in client.get(f"/orders/{order.pk}/").text

    discount.active = False
    discount.save()
    page = client.get(f"/orders/{order.pk}/").text

    assert "Discount applied:" not in page
    assert "The discount “Spring” no longer applies." in page
    assert 'id="discount"' not in page  # no discount row in the totals
