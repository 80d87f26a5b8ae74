"""A product's page and its variant picker (links without script), the item page as a variant
of its product, one catalog card per product, search engines' view (canonical, JSON-LD)."""

import json
import re
from decimal import Decimal

import pytest
from django.test import Client

from kassa.catalog import services
from kassa.catalog.models import Item
from tests.factories import ItemFactory, product_with_variants
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db


def json_ld(page: str) -> dict:
    [found] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    data: dict = json.loads(found)
    return data


def choices(page: str) -> dict[str, str]:
    """Each picker choice's value → its classes and where it leads."""
    return {
        value: f"{classes.strip()} → {href}".strip()
        for classes, href, value in re.findall(
            r'<a class="choice([^"]*)"\s+href="([^"]+)"\s+data-value="([^"]+)"', page
        )
    }


def test_product_page_shows_the_chosen_variant_and_a_picker_of_links(
    client: Client, fake_stripe: FakeStripe
) -> None:
    _product, items = product_with_variants(
        "Tee", options={"Size": ["S", "M", "L"], "Colour": ["Red", "Blue"]}, skip={("L", "Blue")}
    )
    by = {(i.option1, i.option2): i for i in items}
    by["S", "Blue"].stock = 0
    by["S", "Blue"].save()
    by["M", "Red"].price = Decimal("25.00")
    by["M", "Red"].save()

    page = client.get(f"/products/tee/?variant={by['L', 'Red'].pk}").text

    assert "<h1>Tee</h1>" in page
    assert 'id="price" aria-live="polite">$20.00<' in page
    assert f'data-buy-url="/buy/{by["L", "Red"].pk}/"' in page
    assert f'action="/item/{by["L", "Red"].pk}/add-to-order/"' in page
    picked = choices(page)
    assert picked["L"] == f"→ /products/tee/?variant={by['L', 'Red'].pk}"
    assert picked["M"] == f"→ /products/tee/?variant={by['M', 'Red'].pk}"
    # L in Blue does not exist: the link leads to the first Blue that can be bought.
    assert picked["Blue"] == f"choice-missing → /products/tee/?variant={by['M', 'Blue'].pk}"
    assert page.count('aria-current="true"') >= 2  # L and Red, plus the language switch

    small_blue = client.get(f"/products/tee/?variant={by['S', 'Blue'].pk}").text
    assert 'id="stock">Sold out<' in small_blue
    assert 'id="buy"' in small_blue
    assert "disabled>Buy now" in small_blue
    assert choices(client.get(f"/products/tee/?variant={by['S', 'Red'].pk}").text)[
        "Blue"
    ].startswith("choice-sold-out")

    # Without a variant asked for: the first that can be bought.
    assert f'data-variant="{by["S", "Red"].pk}"' in client.get("/products/tee/").text


def test_every_variant_is_bought_through_its_own_buy(
    client: Client, fake_stripe: FakeStripe
) -> None:
    _product, items = product_with_variants("Tee")
    response = client.get(f"/buy/{items[2].pk}")
    assert response.status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert dict(created.params)["line_items[0][price_data][product_data][name]"] == items[2].name


def test_the_item_page_is_its_product_page_with_it_chosen(
    client: Client, fake_stripe: FakeStripe
) -> None:
    _product, items = product_with_variants("Tee")
    page = client.get(f"/item/{items[1].pk}/").text
    assert "<h1>Tee</h1>" in page
    assert f'data-variant="{items[1].pk}"' in page
    assert '<link rel="canonical" href="/products/tee/">' in page


def test_unknown_products_and_variants_are_404(client: Client) -> None:
    _product, _items = product_with_variants("Tee")
    other = ItemFactory.create()
    assert client.get("/products/no-such-thing/").status_code == 404
    assert client.get("/products/tee/?variant=abc").status_code == 404
    assert client.get("/products/tee/?variant=999999").status_code == 404
    # Another product's variant is not one of this product's.
    assert client.get(f"/products/tee/?variant={other.pk}").status_code == 404
    assert client.get("/products/tee/", headers={"Accept": "application/json"}).status_code in (
        200,
        404,
        406,
    )


def test_an_off_sale_product_answers_404_with_noindex(
    client: Client, fake_stripe: FakeStripe
) -> None:
    product, items = product_with_variants("Tee")
    product.is_active = False
    services.product_save(product=product)
    response = client.get("/products/tee/")
    assert response.status_code == 404
    assert '<meta name="robots" content="noindex">' in response.text
    assert client.get(f"/item/{items[0].pk}/").status_code == 404
    assert client.get(f"/buy/{items[0].pk}").status_code in (404, 409, 410)


def test_json_ld_offers_each_variant_and_cannot_be_broken_out_of(
    client: Client, settings: pytest.FixtureRequest
) -> None:
    product, items = product_with_variants("Tee", options={"Size": ["S", "M"]})
    product.description = 'Soft. </script><script>alert("x")</script> & more'
    product.save()
    items[1].stock = 0
    items[1].sku = "TEE-M"
    items[1].save()

    page = client.get("/products/tee/").text

    assert '<script>alert("x")' not in page
    data = json_ld(page)
    assert data["@type"] == "Product"
    assert data["name"] == "Tee"
    assert data["description"] == product.description
    assert [(o["price"], o["priceCurrency"], o["availability"]) for o in data["offers"]] == [
        ("20.00", "USD", "https://schema.org/InStock"),
        ("20.00", "USD", "https://schema.org/OutOfStock"),
    ]
    assert data["offers"][1]["sku"] == "TEE-M"
    assert '<meta property="og:title" content="Tee">' in page


def test_the_catalog_shows_one_card_per_product(client: Client, fake_stripe: FakeStripe) -> None:
    _product, items = product_with_variants("Tee", options={"Size": ["S", "M", "L"]})
    Item.objects.filter(pk=items[2].pk).update(price=Decimal("30.00"))
    mug = ItemFactory.create(name="Mug", price=Decimal("9.00"))

    page = client.get("/").text

    assert page.count('class="card"') == 2
    assert "from $20.00" in page
    assert 'href="/products/tee/"' in page
    assert "Choose options" in page
    assert f'data-buy-url="/buy/{mug.pk}/"' in page  # a product of one variant: Buy as before
    assert f'data-buy-url="/buy/{items[0].pk}/"' not in page
