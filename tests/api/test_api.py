"""/api/v1/: the shapes it answers (written out by hand here), its one error shape, CSRF on every
write, a visitor's own orders only, and the same totals as the pages."""

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order
from tests.factories import DiscountFactory, ItemFactory, TaxFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db
API = "/api/v1"


class Api:
    """A visitor's browser speaking to the API as a front end would: cookies, CSRF token."""

    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        token = self.client.get(f"{API}/csrf").json()["csrf_token"]
        self.headers = {"X-CSRFToken": token}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"{API}{path}", **kwargs)

    def send(self, method: str, path: str, body: object = None, **headers: str) -> Any:
        return getattr(self.client, method)(
            f"{API}{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            headers={**self.headers, **headers},
        )


def usd(amount: int, formatted: str) -> dict[str, object]:
    return {"amount": amount, "currency": "usd", "formatted": formatted}


@pytest.fixture
def api() -> Api:
    return Api()


def test_an_item_in_minor_units_with_its_formatted_price(api: Api) -> None:
    item = ItemFactory.create(name="Mug", description="Holds tea.", price=Decimal("12.34"))

    response = api.get(f"/items/{item.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "id": item.pk,
        "name": "Mug",
        "description": "Holds tea.",
        "price": usd(1234, "$12.34"),
        "payable": False,
        "url": f"/item/{item.pk}/",
        "buy_url": f"/buy/{item.pk}/",
        "add_to_cart_url": f"/item/{item.pk}/add-to-order/",
        "available": None,  # stock not counted
        "sold_out": False,
    }


def test_an_items_stock_and_an_item_off_sale(api: Api) -> None:
    counted = ItemFactory.create(stock=3)
    off_sale = ItemFactory.create(is_active=False)

    assert api.get(f"/items/{counted.pk}").json()["available"] == 3
    assert api.get(f"/items/{off_sale.pk}").status_code == 404
    assert off_sale.pk not in [item["id"] for item in api.get("/items").json()["items"]]


def test_money_follows_the_currencys_exponent_and_the_visitors_language(api: Api) -> None:
    yen = ItemFactory.create(price=Decimal("1500"), currency="jpy")
    dinar = ItemFactory.create(price=Decimal("1.25"), currency="kwd")
    euro = ItemFactory.create(price=Decimal("12.34"), currency="eur")

    assert api.get(f"/items/{yen.pk}").json()["price"] == {
        "amount": 1500,
        "currency": "jpy",
        "formatted": "¥1,500",
    }
    assert api.get(f"/items/{dinar.pk}").json()["price"]["amount"] == 1250
    russian = api.get(f"/items/{euro.pk}", headers={"Accept-Language": "ru"}).json()
    assert russian["price"] == {"amount": 1234, "currency": "eur", "formatted": "12,34\xa0€"}


def test_the_catalog_comes_in_pages(api: Api) -> None:
    items = [ItemFactory.create(name=f"Thing {n:02}") for n in range(5)]

    first = api.get("/items", query_params={"page_size": 2}).json()
    last = api.get("/items", query_params={"page": 3, "page_size": 2}).json()

    assert [entry["id"] for entry in first["items"]] == [items[0].pk, items[1].pk]
    assert (first["count"], first["page"], first["page_size"]) == (5, 1, 2)
    assert [entry["id"] for entry in last["items"]] == [items[4].pk]
    refused = api.get("/items", query_params={"page": 0})
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_error"


def test_a_whole_cart_through_the_api(api: Api) -> None:
    mug = ItemFactory.create(name="Mug", price=Decimal("14.50"))
    towel = ItemFactory.create(name="Towel", price=Decimal("9.90"))
    DiscountFactory.create(name="Welcome", code="WELCOME", percent_off=Decimal("10"))
    assert api.get("/cart").status_code == 404

    created = api.send("post", "/cart/lines", {"item_id": mug.pk, "quantity": 2})
    again = api.send("post", "/cart/lines", {"item_id": towel.pk})
    changed = api.send("patch", f"/cart/lines/{towel.pk}", {"quantity": 3})
    discounted = api.send("put", "/cart/discount", {"code": "welcome"})

    assert (created.status_code, again.status_code) == (201, 200)
    assert changed.status_code == 200
    order = Order.objects.get()
    assert discounted.json() == {
        "id": order.pk,
        "status": "open",
        "currency": "usd",
        "lines": [
            {
                "id": order.lines.get(item=mug).pk,
                "item_id": mug.pk,
                "name": "Mug",
                "quantity": 2,
                "unit_price": usd(1450, "$14.50"),
                "amount": usd(2900, "$29.00"),
            },
            {
                "id": order.lines.get(item=towel).pk,
                "item_id": towel.pk,
                "name": "Towel",
                "quantity": 3,
                "unit_price": usd(990, "$9.90"),
                "amount": usd(2970, "$29.70"),
            },
        ],
        "item_count": 5,
        "subtotal": usd(5870, "$58.70"),
        "discount": usd(587, "$5.87"),
        "discount_name": "Welcome",
        "discounts": [
            {
                "name": "Welcome",
                "code": "WELCOME",
                "automatic": False,
                "free_shipping": False,
                "amount": usd(587, "$5.87"),
            }
        ],
        "tax": usd(0, "$0.00"),
        "tax_name": None,
        "tax_inclusive": False,
        "total": usd(5283, "$52.83"),
        "created_at": discounted.json()["created_at"],
        "url": f"/orders/{order.pk}/",
        "price_changes": [],
        "problems": [],
        "customer": None,
        "shipping_address": None,
        "gift_cards": [],
        "amount_due": usd(5283, "$52.83"),
    }
    assert api.get("/cart").json() == discounted.json()

    removed = api.send("delete", f"/cart/lines/{mug.pk}").json()
    assert [line["item_id"] for line in removed["lines"]] == [towel.pk]
    assert api.send("delete", "/cart/discount").json()["discount"] == usd(0, "$0.00")


def test_the_api_and_the_pages_agree_on_a_carts_totals(api: Api) -> None:
    item = ItemFactory.create(price=Decimal("19.99"))
    api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 3})
    order = Order.objects.get()
    order.discount = DiscountFactory.create(percent_off=Decimal("15"))
    order.tax = TaxFactory.create(percentage=Decimal("20"))
    order.save()

    ours = api.get("/cart").json()
    page = api.client.get(f"/orders/{order.pk}/", headers={"Accept": "application/json"}).json()

    assert page == ours  # one shape, one presenter
    for name in ("subtotal", "discount", "tax", "total"):
        assert ours[name]["formatted"] in api.client.get(f"/orders/{order.pk}/").text
    assert ours["total"]["amount"] == 6116  # 59.97 - 9.00 + 20% of 50.97 (10.19)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/cart/lines", {"item_id": "{item}", "quantity": 1}),
        ("patch", "/cart/lines/{item}", {"quantity": 2}),
        ("delete", "/cart/lines/{item}", None),
        ("put", "/cart/discount", {"code": "X"}),
        ("delete", "/cart/discount", None),
        ("post", "/orders/{order}/checkout", None),
        ("post", "/orders/{order}/payment-intent", None),
        ("post", "/items/{item}/buy", None),
    ],
)
def test_every_write_needs_the_csrf_token(
    api: Api, fake_stripe: FakeStripe, method: str, path: str, body: dict[str, object] | None
) -> None:
    item = ItemFactory.create()
    api.send("post", "/cart/lines", {"item_id": item.pk})
    order = Order.objects.get()
    fill = {"item": item.pk, "order": order.pk}
    body = {
        key: fill["item"] if value == "{item}" else value for key, value in (body or {}).items()
    }

    for token in ("", "x" * 32):
        refused = api.send(method, path.format(**fill), body or None, **{"X-CSRFToken": token})
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "The request was refused because it carried no valid CSRF token. "
            "Reload the page and try again.",
            "code": "csrf_failed",
        }
    assert fake_stripe.requests == []
    assert Order.objects.count() == 1
    assert order.lines.get().quantity == 1


def test_a_strangers_order_is_a_404(api: Api, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    api.send("post", "/cart/lines", {"item_id": item.pk})
    order = Order.objects.get()
    stranger = Api()

    for response in (
        stranger.get(f"/orders/{order.pk}"),
        stranger.send("post", f"/orders/{order.pk}/checkout"),
        stranger.send("post", f"/orders/{order.pk}/payment-intent"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "There is no such order.", "code": "not_found"}
    assert stranger.get("/orders").json() == {"orders": []}
    assert [entry["id"] for entry in api.get("/orders").json()["orders"]] == [order.pk]
    assert fake_stripe.requests == []


def test_checkout_answers_the_seeds_session_json(api: Api, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(price=Decimal("14.50"))
    api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 2})
    order = Order.objects.get()

    response = api.send("post", f"/orders/{order.pk}/checkout")

    assert response.status_code == 200
    [session_id] = fake_stripe.resources.checkout_sessions
    session = fake_stripe.resources.checkout_sessions[session_id]
    assert response.json() == {"id": session_id, "url": session["url"], "order_id": order.pk}
    assert session["amount_total"] == 2900
    assert api.get(f"/orders/{order.pk}").json()["status"] == "pending"
    # The cart is checked out: it can no longer be changed.
    refused = api.send("patch", f"/cart/lines/{item.pk}", {"quantity": 1})
    assert refused.status_code == 404  # the pending order is no longer the cart


def test_buy_now_and_the_payment_intent(
    api: Api, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    item = ItemFactory.create(price=Decimal("12.34"))

    bought = api.send("post", f"/items/{item.pk}/buy")
    order = Order.objects.get()
    intent = api.send("post", f"/orders/{order.pk}/payment-intent")

    assert bought.status_code == 200
    assert bought.json()["order_id"] == order.pk
    assert bought.json()["id"] in fake_stripe.resources.checkout_sessions
    assert intent.status_code == 200
    [intent_id] = fake_stripe.resources.payment_intents
    assert intent.json() == {
        "client_secret": fake_stripe.resources.payment_intents[intent_id]["client_secret"],
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "amount": 1234,
        "currency": "usd",
        "order_id": order.pk,
        "return_url": "http://testserver/checkout/success/",
    }


def test_the_shops_errors_carry_their_code(api: Api, settings: SettingsWrapper) -> None:
    usd_item, eur_item = ItemFactory.create(), ItemFactory.create(currency="eur")
    api.send("post", "/cart/lines", {"item_id": usd_item.pk})
    order = Order.objects.get()

    mismatch = api.send("post", "/cart/lines", {"item_id": eur_item.pk})
    bad_code = api.send("put", "/cart/discount", {"code": "NOPE"})
    unknown = api.send("post", "/cart/lines", {"item_id": 10**15})
    not_in_cart = api.send("patch", f"/cart/lines/{eur_item.pk}", {"quantity": 2})
    too_many = api.send("patch", f"/cart/lines/{usd_item.pk}", {"quantity": 100})
    unpaid = api.send("post", f"/orders/{order.pk}/checkout")

    assert (mismatch.status_code, mismatch.json()["code"]) == (409, "currency_mismatch")
    assert mismatch.json()["error"].startswith("Your cart is in USD")
    assert (bad_code.status_code, bad_code.json()["code"]) == (400, "invalid_discount_code")
    assert unknown.json() == {"error": "There is no such item.", "code": "not_found"}
    assert not_in_cart.json() == {"error": "That item is not in your cart.", "code": "not_found"}
    assert (too_many.status_code, too_many.json()["code"]) == (422, "validation_error")
    assert "quantity" in too_many.json()["error"]
    assert unpaid.status_code == 503
    assert unpaid.json() == {
        "error": "Payments are not configured for this shop yet.",
        "code": "payments_not_configured",
    }


def test_stripe_down_is_a_503_with_its_code(api: Api, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    fake_stripe.fail_next(status=500, times=10)

    response = api.send("post", f"/items/{item.pk}/buy")

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    ['{"item_id": "1"}', '{"item_id": true}', '{"quantity": 1}', "[]", "not json", ""],
)
def test_a_body_that_does_not_fit_the_schema_is_a_422(api: Api, body: str) -> None:
    ItemFactory.create()
    response = api.client.post(
        f"{API}/cart/lines", body, content_type="application/json", headers=api.headers
    )
    assert response.status_code in (400, 422), response.content
    assert set(response.json()) == {"error", "code"}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data; boundary=BoUnDaRy", "application/x-www-form-urlencoded"],
)
def test_a_form_body_is_a_4xx_in_the_api_shape(api: Api, content_type: str) -> None:
    """The CSRF check reads a form's fields from the request's stream; the body must still be
    there for the operation to read (it was a 500)."""
    item = ItemFactory.create()
    body = (
        f'--BoUnDaRy\r\nContent-Disposition: form-data; name="item_id"\r\n\r\n{item.pk}\r\n'
        "--BoUnDaRy--\r\n"
        if content_type.startswith("multipart")
        else f"item_id={item.pk}&quantity=1"
    )
    response = api.client.generic(
        "POST", f"{API}/cart/lines", body, content_type=content_type, headers=api.headers
    )
    assert 400 <= response.status_code < 500, response.content
    assert set(response.json()) == {"error", "code"}
    assert not Order.objects.exists()


def test_unknown_paths_wrong_methods_and_big_bodies_answer_in_the_api_shape(
    api: Api, settings: SettingsWrapper
) -> None:
    for path in ("/api/v1/nothing", "/api/v2/items", "/api/", "/api/v1/items/abc"):
        response = api.client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {
            "error": "There is nothing at this address.",
            "code": "not_found",
        }

    # Not a CSRF refusal: there is nothing here to protect.
    post = Client(enforce_csrf_checks=True).post(f"{API}/items/1/2/buy")
    assert post.status_code == 404
    assert post.json()["code"] == "not_found"

    wrong = api.client.post(f"{API}/items", headers=api.headers)
    assert wrong.status_code == 405
    assert wrong["Allow"] == "GET"
    assert wrong.json() == {"error": "This address answers only GET.", "code": "method_not_allowed"}

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    big = api.send("post", "/cart/lines", {"item_id": 1, "padding": "x" * 200})
    assert big.status_code == 413
    assert big.json()["code"] == "payload_too_large"


def test_paths_answer_with_and_without_the_trailing_slash(api: Api) -> None:
    item = ItemFactory.create()
    assert api.get(f"/items/{item.pk}/").json()["id"] == item.pk
    assert api.get("/items/").status_code == 200


def test_an_unexpected_failure_is_a_500_in_the_api_shape(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("kassa.orders.selectors.order_list", broken)
    response = api.get("/orders")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "bug" not in response.json()["error"]


# --- The schema and its docs ------------------------------------------------------------------

OPERATIONS = {
    ("get", "/api/v1/csrf"),
    ("get", "/api/v1/items"),
    ("get", "/api/v1/items/{item_id}"),
    ("post", "/api/v1/items/{item_id}/buy"),
    ("get", "/api/v1/products"),
    ("get", "/api/v1/products/{handle}"),
    ("get", "/api/v1/collections"),
    ("get", "/api/v1/collections/{handle}"),
    ("get", "/api/v1/cart"),
    ("post", "/api/v1/cart/lines"),
    ("patch", "/api/v1/cart/lines/{item_id}"),
    ("delete", "/api/v1/cart/lines/{item_id}"),
    ("put", "/api/v1/cart/discount"),
    ("delete", "/api/v1/cart/discount"),
    ("post", "/api/v1/cart/gift-cards"),
    ("delete", "/api/v1/cart/gift-cards/{card_id}"),
    ("get", "/api/v1/orders"),
    ("get", "/api/v1/orders/{order_id}"),
    ("post", "/api/v1/orders/{order_id}/checkout"),
    ("post", "/api/v1/orders/{order_id}/payment-intent"),
    ("post", "/api/v1/account/sign-in"),
    ("post", "/api/v1/account/sign-in/verify"),
    ("post", "/api/v1/account/sign-out"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/me/orders"),
    ("get", "/api/v1/me/addresses"),
    ("get", "/api/v1/me/returns"),
    ("post", "/api/v1/orders/{order_id}/returns"),
}


def test_the_schema_is_openapi_3_1_with_every_operation_and_its_errors(client: Client) -> None:
    schema = client.get(f"{API}/openapi.json").json()

    assert schema["openapi"].startswith("3.1")
    found = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert found == OPERATIONS
    error_ref = {"$ref": "#/components/schemas/Error"}
    for method, path in OPERATIONS:
        operation = schema["paths"][path][method]
        responses = operation["responses"]
        assert any(status.startswith("2") for status in responses), (method, path)
        assert {"413", "500"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                body = response["content"]["application/json"]["schema"]
                assert body == error_ref, (method, path, status)
        if method != "get":
            assert {"403", "422"} <= set(responses), (method, path)
            assert operation["security"] == [{"CsrfTokenHeader": []}], (method, path)
    for path in ("/api/v1/orders/{order_id}", "/api/v1/items/{item_id}", "/api/v1/cart"):
        assert "404" in schema["paths"][path]["get"]["responses"], path
    for path in ("/api/v1/orders/{order_id}/checkout", "/api/v1/items/{item_id}/buy"):
        assert {"409", "502", "503"} <= set(schema["paths"][path]["post"]["responses"]), path
    assert schema["components"]["schemas"]["Error"]["examples"]


def test_the_docs_page_loads_swagger_from_our_own_static_files(client: Client) -> None:
    page = client.get(f"{API}/docs")

    assert page.status_code == 200
    assert "<script>" not in page.text  # the CSP allows no inline script
    assert 'src="/static/ninja/swagger-ui-bundle.js"' in page.text
    assert 'src="/static/kassa/api-docs.js"' in page.text
    assert f'data-openapi-url="{API}/openapi.json"' in page.text
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
