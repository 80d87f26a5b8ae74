"""Idempotency keys are this installation's own: two databases of the shop on one Stripe account
(a reset, staging beside development, a restore) count orders from the same numbers, so a key
made of database ids alone would be sent by both, and Stripe refuses a key sent again with other
parameters for 24 hours."""

from typing import Any

import pytest
from django.test import Client

from kassa.common import installation
from kassa.common.models import Installation
from kassa.orders.models import Order
from kassa.stripe_api import checkout_sessions
from kassa.stripe_api.errors import PaymentProviderRejected
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

SESSIONS = ("POST", "/v1/checkout/sessions")


@pytest.fixture(autouse=True)
def _read_afresh() -> Any:
    installation.forget()
    yield
    installation.forget()


def session_for(name: str) -> str:
    """What order 1's first attempt asks of Stripe, its key built from those ids, as the
    Checkout kind builds it; `name` stands for the rest of the order."""
    params: Any = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1450,
                    "product_data": {"name": name},
                },
                "quantity": 1,
            }
        ],
        "success_url": "http://testserver/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
    }
    return checkout_sessions.create_session(
        currency="usd", params=params, idempotency_key="kassa-checkout-1-1"
    ).id


def another_database() -> None:
    """The database is replaced by another one of the shop (a reset, a restore elsewhere)."""
    Installation.objects.all().delete()
    installation.forget()


def test_the_id_is_made_once_and_kept() -> None:
    first = installation.installation_id()
    installation.forget()
    assert installation.installation_id() == first
    assert list(Installation.objects.values_list("key", flat=True)) == [first]
    assert len(first) == 16


def test_two_databases_with_the_same_ids_send_different_keys(fake_stripe: FakeStripe) -> None:
    mug = session_for("Ceramic mug")
    another_database()
    teapot = session_for("Teapot")  # order 1, attempt 1 there too, with other goods

    first, second = fake_stripe.requests_to(*SESSIONS)
    assert first.idempotency_key != second.idempotency_key
    assert str(first.idempotency_key).endswith("-kassa-checkout-1-1")
    assert str(second.idempotency_key).endswith("-kassa-checkout-1-1")
    assert mug != teapot
    assert len(fake_stripe.resources.checkout_sessions) == 2


def test_one_database_sending_one_key_for_other_goods_is_refused(fake_stripe: FakeStripe) -> None:
    """What the installation's id prevents: Stripe binds a key to its first request."""
    session_for("Ceramic mug")
    with pytest.raises(PaymentProviderRejected):
        session_for("Teapot")
    assert len(fake_stripe.resources.checkout_sessions) == 1


def test_a_retry_sends_the_same_key(fake_stripe: FakeStripe) -> None:
    fake_stripe.fail_next(status=500)
    session_for("Ceramic mug")
    first, retry = fake_stripe.requests_to(*SESSIONS)
    assert first.idempotency_key == retry.idempotency_key
    assert len(fake_stripe.resources.checkout_sessions) == 1


def test_every_key_the_shop_sends_carries_the_id(fake_stripe: FakeStripe) -> None:
    """A Buy click, and its cancel (the session expired at Stripe)."""
    client = Client()
    body = client.get(f"/buy/{ItemFactory.create().pk}").json()
    order = Order.objects.get(pk=body["order_id"])
    [cancel_url] = [r.body["cancel_url"] for r in fake_stripe.requests_to(*SESSIONS)]
    assert client.get(cancel_url.removeprefix("http://testserver")).status_code < 400

    posts = [r for r in fake_stripe.requests if r.method == "POST"]
    assert {r.path for r in posts} >= {
        "/v1/checkout/sessions",
        f"/v1/checkout/sessions/{body['id']}/expire",
    }
    prefix = f"{installation.installation_id()}-"
    assert all(str(r.idempotency_key).startswith(prefix) for r in posts)
    [made] = fake_stripe.requests_to(*SESSIONS)
    assert made.idempotency_key == f"{prefix}kassa-checkout-{order.pk}-1"
