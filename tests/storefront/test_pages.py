from decimal import Decimal

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.conftest import PUBLISHABLE_KEY, SECRET_KEY
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


def test_catalog_lists_every_item_with_a_link_and_price(client: Client) -> None:
    mug = ItemFactory.create(name="Ceramic mug", price=Decimal("14.50"), currency="usd")
    cloth = ItemFactory.create(name="Furoshiki", price=Decimal("1800"), currency="jpy")

    response = client.get("/")

    assert response.status_code == 200
    assert f'href="/item/{mug.pk}/"' in response.text
    assert f'href="/item/{cloth.pk}/"' in response.text
    assert "$14.50" in response.text
    assert "¥1,800" in response.text


def test_empty_catalog_says_so(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "The catalog is empty" in response.text


def test_item_page_shows_the_item_and_a_buy_button(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(name="Brass pencil", price=Decimal("34"), currency="eur")

    for path in (f"/item/{item.pk}", f"/item/{item.pk}/"):
        response = client.get(path)
        assert response.status_code == 200
        assert "<h1>Brass pencil</h1>" in response.text
        assert "€34.00" in response.text
        assert f'data-buy-url="/buy/{item.pk}/"' in response.text
        assert f'data-stripe-key="{PUBLISHABLE_KEY}"' in response.text
        assert 'src="https://js.stripe.com/v3/"' in response.text


def test_item_page_escapes_the_description(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create(description='<script>alert("x")</script>\nSecond line')
    response = client.get(f"/item/{item.pk}")
    assert '<script>alert("x")</script>' not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.text


def test_item_page_never_contains_the_secret_key(client: Client, fake_stripe: FakeStripe) -> None:
    item = ItemFactory.create()
    for path in ("/", f"/item/{item.pk}"):
        assert SECRET_KEY not in client.get(path).text


def test_item_page_without_payments_configured_says_so(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    item = ItemFactory.create()
    response = client.get(f"/item/{item.pk}")
    assert response.status_code == 200
    assert "Payments are not configured" in response.text
    assert "data-buy-url" not in response.text
    assert 'src="https://js.stripe.com' not in response.text


@pytest.mark.parametrize("raw_id", ["424242", "abc", "0x10"])
def test_unknown_item_page_is_a_404_page(client: Client, raw_id: str) -> None:
    response = client.get(f"/item/{raw_id}")
    assert response.status_code == 404
    assert "Not found" in response.text


def test_success_and_cancel_pages_exist(client: Client) -> None:
    assert "Thank you" in client.get("/checkout/success/?session_id=cs_test_1").text
    assert "Nothing was charged" in client.get("/checkout/cancel/").text


def test_catalog_offers_buy_now_per_item_when_payments_are_configured(
    client: Client, fake_stripe: FakeStripe
) -> None:
    mug = ItemFactory.create(name="Mug")
    page = client.get("/").text
    assert f'data-buy-url="/buy/{mug.pk}/"' in page
    assert f'data-error-id="buy-error-{mug.pk}"' in page
    assert 'src="https://js.stripe.com/v3/"' in page


def test_catalog_without_payments_offers_no_buy_button(
    client: Client, settings: SettingsWrapper
) -> None:
    settings.STRIPE_API_KEY = ""
    ItemFactory.create()
    page = client.get("/").text
    assert "data-buy-url" not in page
    assert 'src="https://js.stripe.com' not in page
    assert "Add to cart" in page
