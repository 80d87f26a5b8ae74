"""The item page answers JSON to `Accept: application/json`: the item, its price and whether
it can be bought, read fresh (never from the shared HTML copies)."""

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.storefront.test_shared_pages import shared

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}


def test_the_item_as_json(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Mug", description="Blue.", price=Decimal("14.5"))

    response = client.get(f"/item/{item.pk}", headers=JSON)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "id": item.pk,
        "name": "Mug",
        "description": "Blue.",
        "price": {"amount": 1450, "currency": "usd", "formatted": "$14.50"},
        "url": f"/item/{item.pk}/",
        "buy_url": f"/buy/{item.pk}/",
        "add_to_cart_url": f"/item/{item.pk}/add-to-order/",
        "payable": True,
        "available": None,  # stock not tracked
        "sold_out": False,
    }


@pytest.mark.parametrize(
    ("price", "currency", "shown"),
    [("1500", "jpy", 1500), ("1.23", "kwd", 1230), ("7", "eur", 700)],
)
def test_the_price_has_its_currencys_decimals(
    client: Client, price: str, currency: str, shown: int
) -> None:
    """In the currency's minor unit, as Stripe charges it: yen whole, dinars in thousandths."""
    item = ItemFactory.create(price=Decimal(price), currency=currency)
    assert client.get(f"/item/{item.pk}/", headers=JSON).json()["price"]["amount"] == shown


def test_payable_says_whether_the_items_currency_has_an_account(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    settings.STRIPE_KEYS_BY_CURRENCY = {"eur": {"secret": "sk_test_eur", "publishable": "pk_eur"}}
    euro, dollar = ItemFactory.create(currency="eur"), ItemFactory.create(currency="usd")
    assert client.get(f"/item/{euro.pk}/", headers=JSON).json()["payable"] is True
    assert client.get(f"/item/{dollar.pk}/", headers=JSON).json()["payable"] is False


def test_json_bypasses_the_shared_copies_and_both_vary_on_accept(client: Client) -> None:
    item = ItemFactory.create(name="Kettle")
    first_json = client.get(f"/item/{item.pk}/", headers=JSON)
    page = client.get(f"/item/{item.pk}/")
    assert not shared(page)  # the JSON answer left no copy behind
    assert shared(client.get(f"/item/{item.pk}/"))

    type(item).objects.filter(pk=item.pk).update(name="Teapot")  # no new catalog revision

    assert "Kettle" in client.get(f"/item/{item.pk}/").text  # the shared copy, as it was
    assert client.get(f"/item/{item.pk}/", headers=JSON).json()["name"] == "Teapot"
    for response in (first_json, page):
        assert "Accept" in [part.strip() for part in response["Vary"].split(",")]


@pytest.mark.parametrize("raw_id", ["424242", "abc"])
def test_an_unknown_item_is_a_json_404_to_a_json_client(client: Client, raw_id: str) -> None:
    response = client.get(f"/item/{raw_id}/", headers=JSON)
    assert response.status_code == 404
    assert response.json() == {"error": "There is no such item.", "code": "not_found"}


def test_the_catalog_imports_neither_orders_nor_payments() -> None:
    catalog = Path(__file__).resolve().parents[2] / "kassa" / "catalog"
    imported = set()
    for source in catalog.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    assert [name for name in imported if name.startswith(("kassa.orders", "kassa.payments"))] == []
