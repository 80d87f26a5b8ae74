"""The catalog a page at a time (`?page=N`), and search (`?q=...`) on SQLite and PostgreSQL."""

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.catalog import selectors
from kassa.catalog.models import Item, search_document
from kassa.catalog.selectors import item_search
from kassa.storefront.forms import CatalogQueryForm
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def names(page: str) -> list[str]:
    return re.findall(r'<span class="card-name">([^<]*)</span>', page)


def catalog_of(count: int) -> list[Item]:
    return [ItemFactory.create(name=f"Item {n:03d}") for n in range(1, count + 1)]


@pytest.fixture
def pages_of_ten(settings: SettingsWrapper) -> None:
    settings.SHOP_PAGE_SIZE = 10


# --- pages ------------------------------------------------------------------------------------


def test_the_catalog_shows_one_page_at_a_time(client: Client, pages_of_ten: None) -> None:
    catalog_of(25)
    first = client.get("/").text
    assert names(first) == [f"Item {n:03d}" for n in range(1, 11)]
    assert names(client.get("/?page=2").text) == [f"Item {n:03d}" for n in range(11, 21)]
    assert names(client.get("/?page=3").text) == [f"Item {n:03d}" for n in range(21, 26)]


def test_page_links_say_where_they_go(client: Client, pages_of_ten: None) -> None:
    catalog_of(25)
    second = client.get("/?page=2").text
    assert '<a class="page-step" href="/" rel="prev">' in second
    assert '<a class="page-step" href="/?page=3" rel="next">' in second
    assert 'href="/?page=2" aria-current="page" aria-label="Page 2"' in second
    assert '<nav class="pagination" aria-label="Pages">' in second
    first = client.get("/").text
    assert 'rel="prev"' not in first
    assert 'rel="next"' not in client.get("/?page=3").text


def test_many_pages_are_linked_with_gaps(client: Client, settings: SettingsWrapper) -> None:
    settings.SHOP_PAGE_SIZE = 1
    catalog_of(40)
    page = client.get("/?page=20").text
    linked = re.findall(r'aria-label="Page (\d+)"', page)
    assert linked == ["1", "18", "19", "20", "21", "22", "40"]
    assert page.count('class="page-gap"') == 2


def test_one_page_has_no_page_links(client: Client) -> None:
    catalog_of(3)
    assert "pagination" not in client.get("/").text


@pytest.mark.parametrize("asked", ["4", "99", "999999999"])
def test_a_page_past_the_last_is_the_last(client: Client, pages_of_ten: None, asked: str) -> None:
    catalog_of(25)
    response = client.get(f"/?page={asked}")
    assert response.status_code == 200
    assert names(response.text) == [f"Item {n:03d}" for n in range(21, 26)]


@pytest.mark.parametrize(
    "asked", ["0", "-1", "abc", "1.5", "2e3", "１", "1" * 30, "%00", "1%20OR%201=1"]
)
def test_a_malformed_page_is_a_404(client: Client, pages_of_ten: None, asked: str) -> None:
    catalog_of(25)
    assert client.get(f"/?page={asked}").status_code == 404


def test_an_empty_page_parameter_is_the_first_page(client: Client, pages_of_ten: None) -> None:
    catalog_of(12)
    assert names(client.get("/?page=").text)[0] == "Item 001"


def test_numbers_past_the_end_share_the_last_pages_copy(client: Client, pages_of_ten: None) -> None:
    catalog_of(25)
    client.get("/?page=3")
    # Served from the copy, not rendered: anyone's numbers cannot fill memory with copies.
    assert client.get("/?page=500").templates == []
    assert client.get("/?page=3").templates == []


def test_an_edit_shows_on_every_page(client: Client, pages_of_ten: None) -> None:
    items = catalog_of(25)
    client.get("/?page=2")
    items[14].name = "Item 015, renamed"
    items[14].save()
    assert "Item 015, renamed" in names(client.get("/?page=2").text)
    ItemFactory.create(name="Item 000")
    assert names(client.get("/?page=2").text)[0] == "Item 010"


# --- search -----------------------------------------------------------------------------------


@pytest.fixture
def shop() -> None:
    for name, description in [
        ("Ceramic mug", "A 350 ml stoneware mug, glazed by hand."),
        ("Linen tea towel", "Stonewashed linen. Dries mugs and plates."),
        ("Brass pencil", "A solid brass mechanical pencil."),
        ("Кружка керамическая", "Кружка на 350 мл из каменной керамики."),
        ("Полотенце льняное", "Стираный лён, 50 × 70 см."),
    ]:
        ItemFactory.create(name=name, description=description, price=Decimal("10.00"))


def found(client: Client, query: str) -> list[str]:
    response = client.get("/", {"q": query})
    assert response.status_code == 200
    return names(response.text)


def test_search_finds_names_and_descriptions_in_either_case(client: Client, shop: None) -> None:
    assert found(client, "MUG") == ["Ceramic mug", "Linen tea towel"]
    assert found(client, "pencil") == ["Brass pencil"]
    assert found(client, "stoneware") == ["Ceramic mug"]
    assert found(client, "КРУЖКА") == ["Кружка керамическая"]


def test_every_word_must_match(client: Client, shop: None) -> None:
    assert found(client, "brass pencil") == ["Brass pencil"]
    assert found(client, "brass mug") == []


def test_a_search_says_what_it_found(client: Client, shop: None) -> None:
    page = client.get("/", {"q": "pencil"}).text
    assert "1 item found for “pencil”." in page
    assert 'value="pencil"' in page  # the box keeps the words
    nothing = client.get("/", {"q": "teapot"}).text
    assert "Nothing found for “teapot”." in nothing
    assert names(nothing) == []
    assert "The catalog is empty" not in nothing


def test_a_search_in_russian_says_so_in_russian(client: Client, shop: None) -> None:
    page = client.get("/", {"q": "кружка"}, headers={"Accept-Language": "ru"}).text
    assert "По запросу «кружка» найден 1 товар." in page


def test_search_results_come_a_page_at_a_time(client: Client, pages_of_ten: None) -> None:
    for n in range(1, 16):
        ItemFactory.create(name=f"Mug {n:02d}")
    ItemFactory.create(name="Towel")
    first = client.get("/", {"q": "mug"}).text
    assert len(names(first)) == 10
    assert "15 items found" in first
    assert 'href="/?q=mug&amp;page=2" rel="next"' in first
    assert names(client.get("/", {"q": "mug", "page": "2"}).text) == [
        f"Mug {n:02d}" for n in range(11, 16)
    ]
    assert names(client.get("/", {"q": "mug", "page": "9"}).text)[-1] == "Mug 15"


@pytest.mark.parametrize(
    "query",
    [
        "m" * 1000,
        "mug " * 250,
        "\x00mug",
        "mug\u200b\u202e",
        "🙂☕",
        "ｍｕｇ",  # full width: the same word
        "'; DROP TABLE catalog_item; --",
        '"unclosed',
        "a & b | !c <-> (",
        "\\",
        "%_",
        "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ],
)
def test_any_query_is_answered(client: Client, shop: None, query: str) -> None:
    response = client.get("/", {"q": query})
    assert response.status_code == 200
    assert Item.objects.count() == 5


def test_odd_unicode_and_full_width_letters_still_find(client: Client, shop: None) -> None:
    assert found(client, "\x00pencil") == ["Brass pencil"]
    assert found(client, "ｐｅｎｃｉｌ") == ["Brass pencil"]
    assert found(client, "%") == []


def test_searches_are_shared_copies_in_a_cache_of_their_own(client: Client, shop: None) -> None:
    client.get("/", {"q": "mug"})
    assert client.get("/", {"q": "  mug "}).templates == []  # the same words: the same copy
    assert client.get("/", {"q": "pencil"}).templates != []
    # Searches anyone can make up never take the place of the catalog's or the items' pages.
    assert len(caches["pages"]._cache) == 0  # type: ignore[attr-defined]
    assert len(caches["searches"]._cache) > 0  # type: ignore[attr-defined]


def test_a_search_of_exclusions_alone_finds_nothing_without_a_query(
    client: Client, shop: None
) -> None:
    """ "-word" alone would match most of the catalog, through no index."""
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/", {"q": "-zq123 -towel"})
    assert page.status_code == 200
    assert names(page.text) == []
    assert not [q for q in captured.captured_queries if "catalog_item" in q["sql"]]


def test_a_query_keeps_its_first_eight_words(client: Client, shop: None) -> None:
    form = CatalogQueryForm({"q": "pencil brass " + " ".join(f"w{n}" for n in range(20))})
    assert form.is_valid()
    assert form.cleaned_data["q"].split() == ["pencil", "brass", *[f"w{n}" for n in range(6)]]


def test_a_search_finding_more_than_its_limit_says_so_and_pages_through_the_limit(
    client: Client, pages_of_ten: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "SEARCH_RESULTS_LIMIT", 12)
    for n in range(30):
        ItemFactory.create(name=f"Mug {n:02d}")

    first = client.get("/", {"q": "mug"}).text
    last = client.get("/", {"q": "mug", "page": "9"}).text

    assert "More than 12 items found for “mug”" in first
    assert len(names(first)) == 10
    assert len(names(last)) == 2  # the 12 shown, a page of 10 and one of 2
    assert 'href="/?q=mug&amp;page=2"' in first
    assert "page=3" not in first


def test_a_search_shows_an_edit(client: Client, shop: None) -> None:
    assert found(client, "pencil") == ["Brass pencil"]
    ItemFactory.create(name="Copper pencil")
    assert found(client, "pencil") == ["Brass pencil", "Copper pencil"]


# --- PostgreSQL's full-text search ------------------------------------------------------------


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("full-text search is checked in the PostgreSQL pass (make test-postgres)")


def test_russian_words_are_found_in_any_form(client: Client, shop: None, postgres: None) -> None:
    assert found(client, "кружки") == ["Кружка керамическая"]
    assert found(client, "кружкой") == ["Кружка керамическая"]
    assert found(client, "керамику") == ["Кружка керамическая"]
    assert found(client, "полотенца") == ["Полотенце льняное"]


def test_english_words_are_found_in_any_form(client: Client, shop: None, postgres: None) -> None:
    assert found(client, "mugs") == ["Ceramic mug", "Linen tea towel"]
    assert found(client, "pencils") == ["Brass pencil"]
    assert found(client, "towels") == ["Linen tea towel"]
    assert found(client, "glazing") == ["Ceramic mug"]


def test_web_search_syntax_excludes_and_quotes(client: Client, shop: None, postgres: None) -> None:
    assert found(client, "mug -towel") == ["Ceramic mug"]
    assert found(client, '"brass pencil"') == ["Brass pencil"]
    assert found(client, "the") == []  # a stop word alone looks for nothing


def _large_catalog() -> None:
    """10,000 items: 5% of them mugs in Russian, the rest "Thing"s."""
    Item.objects.bulk_create(
        Item(name=f"{'Кружка' if n % 20 == 0 else 'Thing'} {n:05d}", price=Decimal("1.00"))
        for n in range(10_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_item")


def _plans(query: str) -> list[dict[str, Any]]:
    """The search page's two queries (the count and the page), as PostgreSQL ran them."""
    found = item_search(query=query)
    with CaptureQueriesContext(connection) as captured:
        found.count()
        list(found[:24])
    plans = []
    for ran in captured.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {ran['sql']}")
            plans.append(cursor.fetchone()[0][0]["Plan"])
    return plans


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _item_rows_read(plan: dict[str, Any]) -> int:
    """Rows of the items' table each scan read: those it kept and those it threw away."""
    return sum(
        (
            node["Actual Rows"]
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        )
        * node["Actual Loops"]
        for node in _nodes(plan)
        if node.get("Relation Name") == "catalog_item"
    )


def test_a_search_in_a_large_catalog_goes_through_its_gin_index(postgres: None) -> None:
    """A rare word: its few items through the index of stored words, never a walk of the
    catalog in name order testing each item's words."""
    _large_catalog()
    plans = _plans("кружки")
    assert len(plans) == 2
    for plan in plans:
        shown = json.dumps(plan)
        assert "Bitmap Index Scan" in shown, shown
        assert "catalog_item_search_vector" in shown, shown
        assert "catalog_item_order" not in shown, shown


@pytest.mark.parametrize("query", ["thing", "things -кружка", "кружки", "zq123", "-zq123 thing"])
def test_a_search_reads_a_bounded_number_of_rows_at_any_catalog_size(
    postgres: None, query: str
) -> None:
    """A word most items have, an exclusion, a rare word, a word no item has: each query reads
    at most the search's limit of rows (plus the few its filter passes over), from the stored
    words, in a catalog of 10,000 as in one of millions; no item's text is parsed again."""
    _large_catalog()
    plans = _plans(query)
    limit = selectors.SEARCH_RESULTS_LIMIT + 1
    assert len(plans) == 2
    for plan in plans:
        assert "to_tsvector" not in json.dumps(plan)
        assert _item_rows_read(plan) <= 2 * limit + 100, json.dumps(plan, indent=1)


def test_the_stored_words_follow_every_write(postgres: None) -> None:
    item = ItemFactory.create(name="Kettle", description="Boils water.")
    Item.objects.filter(pk=item.pk).update(name="Teapot")  # no save(), as bulk writers do
    Item.objects.bulk_create([Item(name="Samovar", price=Decimal("5.00"))])

    assert [i.name for i in item_search(query="teapots")] == ["Teapot"]
    assert [i.name for i in item_search(query="water")] == ["Teapot"]
    assert list(item_search(query="kettle")) == []
    assert [i.name for i in item_search(query="samovar")] == ["Samovar"]
    # What the trigger stored is what the model's expression says.
    pairs = Item.objects.annotate(words=search_document()).values_list("search_vector", "words")
    assert [stored for stored, words in pairs if stored != words] == []
    assert len(pairs) == 2
