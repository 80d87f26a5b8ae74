"""Both languages are complete, and pages, messages and Checkout follow the visitor's choice."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from django.test import Client
from django.utils import translation

from kassa.orders.models import Order, Tax
from tests.factories import ItemFactory
from tests.html import csrf_token_in

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
KEYWORDS = {"_": None, "gettext": None, "gettext_lazy": None, "ngettext": (1, 2)}


def _shown_strings() -> set[str]:
    """Every string the code marks for translation, and each {% translate "..." %} of a
    template (plural forms by their singular)."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "kassa", method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    for template in (ROOT / "templates").rglob("*.html"):
        found.update(re.findall(r'{%\s*translate\s+"([^"]+)"', template.read_text()))
    return {message for message in found if message}


def test_every_string_shown_has_its_russian() -> None:
    """A new string in the code or a template, not yet in the catalog, fails here rather than
    reaching a Russian page in English (Django's own catalog counts: the admin's "Home")."""
    with PO.open("rb") as po:
        ours = {message.id for message in read_po(po, locale="ru") if message.id}
    ours = {message if isinstance(message, str) else message[0] for message in ours}
    with translation.override("ru"):
        missing = sorted(
            message
            for message in _shown_strings() - ours
            if translation.gettext(message) == message
        )
    assert missing == []


def test_the_russian_translation_is_complete() -> None:
    with PO.open("rb") as po:
        catalog = read_po(po, locale="ru")
    assert catalog.num_plurals == 4  # Russian has one, few, many (and fractions)
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            "fuzzy" in message.flags
            or not all(message.string if isinstance(message.string, tuple) else [message.string])
        )
    ]
    assert untranslated == []


@pytest.mark.django_db
def test_the_language_follows_the_browser_and_the_switch() -> None:
    ItemFactory.create()
    client = Client()
    assert "<h1>Каталог</h1>" in client.get("/", headers={"Accept-Language": "ru"}).text
    assert "<h1>Catalog</h1>" in client.get("/", headers={"Accept-Language": "en"}).text

    page = client.get("/", headers={"Accept-Language": "en"})
    token = csrf_token_in(page.text)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/", "csrfmiddlewaretoken": token})
    # The visitor's choice wins over what the browser says.
    assert "<h1>Каталог</h1>" in client.get("/", headers={"Accept-Language": "en"}).text


@pytest.mark.django_db
def test_prices_are_formatted_for_the_language() -> None:
    ItemFactory.create(price="1500", currency="rub")
    assert "1\xa0500,00\xa0₽" in Client().get("/", headers={"Accept-Language": "ru"}).text
    assert "RUB1,500.00" in Client().get("/", headers={"Accept-Language": "en"}).text


@pytest.mark.django_db
def test_admin_names_are_translated(admin_client: Client) -> None:
    page = admin_client.get("/admin/", headers={"Accept-Language": "ru"})
    assert "Заказы" in page.text
    assert "Скидки" in page.text or "скидки" in page.text


@pytest.mark.django_db
def test_an_orders_admin_page_is_translated(admin_client: Client) -> None:
    item = ItemFactory.create()
    order = Order.objects.create(currency="usd", tax=Tax.objects.create(name="VAT", percentage=20))
    order.lines.create(item=item, quantity=1, unit_price=item.price)
    page = admin_client.get(
        f"/admin/orders/order/{order.pk}/change/", headers={"Accept-Language": "ru"}
    ).text
    for russian in ("История", "Суммы", "подытог", "налог", "сумма"):
        assert russian in page, russian
    item_form = admin_client.get("/admin/catalog/item/add/", headers={"Accept-Language": "ru"})
    assert "Описание" in item_form.text
