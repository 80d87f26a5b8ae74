from decimal import Decimal

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.stripe_api.keys import Keypair, keypair_for
from tests.conftest import PUBLISHABLE_KEY, SECRET_KEY
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe

EUR_SECRET = "sk_test_eur_account_secret"
EUR_PUBLISHABLE = "pk_test_eur_account"


@pytest.fixture
def eur_account(settings: SettingsWrapper) -> None:
    settings.STRIPE_KEYS_BY_CURRENCY = {
        "eur": {"secret": EUR_SECRET, "publishable": EUR_PUBLISHABLE}
    }


def test_a_currency_with_its_own_keypair_uses_it(
    fake_stripe: FakeStripe, eur_account: None
) -> None:
    assert keypair_for("eur") == Keypair(secret=EUR_SECRET, publishable=EUR_PUBLISHABLE)
    assert keypair_for("EUR") == Keypair(secret=EUR_SECRET, publishable=EUR_PUBLISHABLE)
    assert keypair_for("usd") == Keypair(secret=SECRET_KEY, publishable=PUBLISHABLE_KEY)


def test_no_keys_means_not_configured(settings: SettingsWrapper) -> None:
    settings.STRIPE_API_KEY = ""
    settings.STRIPE_KEYS_BY_CURRENCY = {}
    assert keypair_for("usd") is None


def test_keypair_repr_hides_the_secret() -> None:
    assert "sk_live_hidden" not in repr(Keypair(secret="sk_live_hidden", publishable="pk_live_1"))


@pytest.mark.django_db
def test_each_currency_is_paid_into_its_own_account(
    client: Client, fake_stripe: FakeStripe, eur_account: None
) -> None:
    eur_item = ItemFactory.create(currency="eur", price=Decimal("12"))
    usd_item = ItemFactory.create(currency="usd", price=Decimal("12"))

    eur_page = client.get(f"/item/{eur_item.pk}").text
    usd_page = client.get(f"/item/{usd_item.pk}").text
    assert f'data-stripe-key="{EUR_PUBLISHABLE}"' in eur_page
    assert f'data-stripe-key="{PUBLISHABLE_KEY}"' in usd_page

    assert client.get(f"/buy/{eur_item.pk}").status_code == 200
    assert client.get(f"/buy/{usd_item.pk}").status_code == 200
    eur_call, usd_call = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert eur_call.api_key == EUR_SECRET
    assert usd_call.api_key == SECRET_KEY
