"""Stripe Checkout shows an item's picture only when the internet can fetch it from the shop."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog import images, services
from kassa.catalog.models import Item
from tests.factories import ItemFactory, ensure_shipping_rate
from tests.fake_stripe import FakeStripe
from tests.images import picture

pytestmark = pytest.mark.django_db

IMAGES = "line_items[0][price_data][product_data][images][0]"


def item_with_image() -> int:
    item = ItemFactory.build(name="Teapot")
    ensure_shipping_rate(item.currency)  # built, not created: the factory makes no rate
    checked = images.check_upload(ContentFile(picture("JPEG")))
    return int(services.item_save(item=item, new_image=checked).pk)


def checkout_params(client: Client, fake_stripe: FakeStripe, item_id: int) -> dict[str, str]:
    assert client.get(f"/buy/{item_id}").status_code == 200
    [created] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    return dict(created.params)


def test_with_a_public_address_checkout_gets_the_items_image(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    item_id = item_with_image()
    params = checkout_params(client, fake_stripe, item_id)
    large = Item.objects.get(pk=item_id).large_image.name
    assert params[IMAGES] == f"https://shop.example.com/media/{large}"


def test_without_a_public_address_checkout_gets_no_image(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_PUBLIC_URL = ""
    params = checkout_params(client, fake_stripe, item_with_image())
    assert not any("images" in key for key in params)


def test_an_item_without_an_image_sends_none(
    client: Client, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.SHOP_PUBLIC_URL = "https://shop.example.com"
    params = checkout_params(client, fake_stripe, ItemFactory.create().pk)
    assert not any("images" in key for key in params)
