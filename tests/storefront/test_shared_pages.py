"""The catalog and item pages are rendered once per language and shared: each visitor still gets
their own CSRF token, cart link and messages, and an item edit retires the shared copies."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.middleware import csrf
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog import revision
from kassa.catalog.models import Item
from tests.factories import ItemFactory
from tests.html import csrf_token_in

pytestmark = pytest.mark.django_db


def shared(response: object) -> bool:
    """Whether the page came from the shared copy: a copy renders no template."""
    return response.templates == []  # type: ignore[attr-defined]


def test_a_page_is_rendered_once_and_then_served_from_the_shared_copy() -> None:
    item = ItemFactory.create(name="Kettle")
    first = Client().get(f"/item/{item.pk}/")
    second = Client().get(f"/item/{item.pk}/")
    assert not shared(first)
    assert shared(second)
    assert "<h1>Kettle</h1>" in second.text
    assert "\x00" not in second.text  # every visitor's bit was put in


def test_each_visitor_gets_their_own_csrf_token_and_it_works() -> None:
    item = ItemFactory.create()
    alice, bob = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    alice_page, bob_page = alice.get(f"/item/{item.pk}/"), bob.get(f"/item/{item.pk}/")
    assert shared(bob_page)
    alice_token, bob_token = csrf_token_in(alice_page.text), csrf_token_in(bob_page.text)
    assert alice.cookies["csrftoken"].value != bob.cookies["csrftoken"].value

    # Each token goes with its own visitor's cookie, as Django's unshared pages' tokens do.
    stolen = bob.post(f"/item/{item.pk}/add-to-order/", {"csrfmiddlewaretoken": alice_token})
    assert stolen.status_code == 403
    assert bob.post(f"/item/{item.pk}/add-to-order/").status_code == 403
    added = bob.post(f"/item/{item.pk}/add-to-order/", {"csrfmiddlewaretoken": bob_token})
    assert added.status_code == 302


def test_a_returning_visitors_token_is_masked_afresh_each_time_and_keeps_its_secret() -> None:
    item = ItemFactory.create()
    visitor = Client(enforce_csrf_checks=True)
    visitor.get(f"/item/{item.pk}/")
    secret = visitor.cookies["csrftoken"].value
    tokens = [csrf_token_in(visitor.get(f"/item/{item.pk}/").text) for _ in range(40)]
    # A page's token is new each time (what protects it from BREACH), and each is the cookie's
    # secret under its mask, as Django reads it.
    assert len(set(tokens)) == 40
    assert all(len(token) == 64 for token in tokens)
    unmask = getattr(csrf, "_unmask_cipher_token")  # noqa: B009 - Django's own, not in its stubs
    assert {unmask(token) for token in tokens} == {secret}
    assert visitor.cookies["csrftoken"].value == secret
    # The masks use every letter and digit (no character is left out or favoured much).
    assert set("".join(token[:32] for token in tokens)) == set(CSRF_ALLOWED_CHARS)
    added = visitor.post(f"/item/{item.pk}/add-to-order/", {"csrfmiddlewaretoken": tokens[-1]})
    assert added.status_code == 302


def test_the_catalog_puts_the_visitors_token_in_every_form() -> None:
    ItemFactory.create_batch(3)
    Client().get("/")
    page = Client().get("/")
    assert shared(page)
    assert page.text.count('name="csrfmiddlewaretoken"') == 3 + 1  # the items' and the language's
    csrf_token_in(page.text)  # one token, the same in each


def test_each_visitor_sees_their_own_cart_in_the_header() -> None:
    item = ItemFactory.create()
    shopper, other_shopper, browser = Client(), Client(), Client()
    shopper.post(f"/item/{item.pk}/add-to-order/", {"quantity": "3"})
    other_shopper.post(f"/item/{item.pk}/add-to-order/", {"quantity": "1"})
    for client in (shopper, other_shopper):
        client.get("/orders/")  # the message about the added item is shown here

    for path in ("/", f"/item/{item.pk}/"):
        browser.get(path)  # the copy for visitors without a session
        other_shopper.get(path)  # the copy for visitors with one
        theirs, mine, other = browser.get(path), shopper.get(path), other_shopper.get(path)
        assert shared(theirs)
        assert shared(mine)
        assert shared(other)
        assert 'id="cart-count" aria-label="0 items">0<' in theirs.text
        assert 'href="/orders/" class="cart-link"' in theirs.text
        assert 'id="cart-count" aria-label="3 items">3<' in mine.text
        assert 'id="cart-count" aria-label="1 item">1<' in other.text
        cart = shopper.get("/orders/", headers={"Accept": "application/json"}).json()
        assert f'href="/orders/{cart["orders"][0]["id"]}/" class="cart-link"' in mine.text


def test_a_logged_in_customer_sees_their_cart_on_a_shared_page() -> None:
    item = ItemFactory.create()
    user = get_user_model().objects.create_user("ann", password="x")
    customer, visitor = Client(), Client()
    customer.force_login(user)
    customer.post(f"/item/{item.pk}/add-to-order/", {"quantity": "2"})
    customer.get("/orders/")  # the flash message
    visitor.post(f"/item/{item.pk}/add-to-order/")
    visitor.get("/orders/")
    visitor.get(f"/item/{item.pk}/")
    page = customer.get(f"/item/{item.pk}/")
    assert shared(page)
    assert 'aria-label="2 items">2<' in page.text


def test_a_visitors_message_is_shown_once_on_a_page_rendered_for_them() -> None:
    item = ItemFactory.create(name="Kettle")
    client = Client()
    client.post(f"/item/{item.pk}/add-to-order/")
    client.get("/orders/")
    client.get("/")  # the copy for visitors with a session exists now
    client.post(f"/item/{item.pk}/add-to-order/")
    with_message = client.get("/")
    assert not shared(with_message)
    assert "Kettle is in your cart." in with_message.text
    after = client.get("/")
    assert shared(after)
    assert "Kettle is in your cart." not in after.text


def test_the_language_switch_returns_to_the_visitors_own_address() -> None:
    item = ItemFactory.create()
    Client().get(f"/item/{item.pk}/")
    page = Client().get(f"/item/{item.pk}/?utm_source=mail&x=<b>")
    assert shared(page)
    assert (
        f'name="next" type="hidden" value="/item/{item.pk}/?utm_source=mail&amp;x=%3Cb%3E"'
        in page.text
    )


def test_each_language_has_its_own_copy() -> None:
    item = ItemFactory.create(price=Decimal("1500"), currency="rub")
    for _ in range(2):
        en = Client().get(f"/item/{item.pk}/", headers={"Accept-Language": "en"})
        ru = Client().get(f"/item/{item.pk}/", headers={"Accept-Language": "ru"})
    assert shared(en)
    assert shared(ru)
    assert "RUB1,500.00" in en.text
    assert "Add to cart" in en.text
    assert "1\xa0500,00\xa0₽" in ru.text
    assert "В корзину" in ru.text


def test_an_item_edit_shows_on_the_next_request() -> None:
    item = ItemFactory.create(name="Kettle", price=Decimal("10.00"))
    other = ItemFactory.create(name="Toaster")
    for path in ("/", f"/item/{item.pk}/", f"/item/{other.pk}/"):
        Client().get(path)

    item.name, item.price = "Teapot", Decimal("12.50")
    item.save()

    catalog, page = Client().get("/"), Client().get(f"/item/{item.pk}/")
    assert "Teapot" in catalog.text
    assert "Kettle" not in catalog.text
    assert "<h1>Teapot</h1>" in page.text
    assert "$12.50" in page.text
    assert not shared(Client().get(f"/item/{other.pk}/"))  # every page of the old revision retires


def test_a_deleted_item_is_gone_from_its_page_and_the_catalog() -> None:
    item = ItemFactory.create(name="Kettle")
    for path in ("/", f"/item/{item.pk}/"):
        Client().get(path)
        Client().get(path)
    Item.objects.filter(pk=item.pk).delete()  # a queryset delete still sends post_delete
    assert Client().get(f"/item/{item.pk}/").status_code == 404
    assert "Kettle" not in Client().get("/").text


def test_an_edit_in_the_admin_shows_on_the_shop_pages(admin_client: Client) -> None:
    item = ItemFactory.create(name="Kettle", price=Decimal("10.00"))
    Client().get(f"/item/{item.pk}/")
    response = admin_client.post(
        f"/admin/catalog/item/{item.pk}/change/",
        {
            "name_en": "Kettle",
            "description_en": "",
            "price": "11.00",
            "currency": "usd",
            "is_active": "on",
            "requires_shipping": "on",
            "stock_seen": "",
        },
    )
    assert response.status_code == 302
    assert "$11.00" in Client().get(f"/item/{item.pk}/").text


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clock the catalog revision is read by, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(revision, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(revision, "_seen", ("", float("-inf")))
    return now


def test_with_a_refresh_interval_an_edit_shows_once_the_interval_is_over(
    settings: SettingsWrapper, clock: list[float]
) -> None:
    settings.CATALOG_PAGE_REFRESH_SECONDS = 5
    item = ItemFactory.create(name="Kettle")
    Client().get(f"/item/{item.pk}/")
    item.name = "Teapot"
    item.save()

    clock[0] += 4.9
    assert "<h1>Kettle</h1>" in Client().get(f"/item/{item.pk}/").text  # within the bound
    clock[0] += 0.1
    assert "<h1>Teapot</h1>" in Client().get(f"/item/{item.pk}/").text


def test_with_debug_on_every_page_is_rendered_afresh(settings: SettingsWrapper) -> None:
    settings.DEBUG = True
    item = ItemFactory.create()
    Client().get(f"/item/{item.pk}/")
    assert not shared(Client().get(f"/item/{item.pk}/"))


def test_an_unknown_item_is_a_404_and_is_not_kept() -> None:
    assert Client().get("/item/424242/").status_code == 404
    assert Client().get("/item/424242/").status_code == 404
    # Created without a new catalog revision (bulk_create sends no signals): a kept 404
    # would still be served.
    Item.objects.bulk_create([ItemFactory.build(pk=424242, name="Kettle")])
    assert "<h1>Kettle</h1>" in Client().get("/item/424242/").text
