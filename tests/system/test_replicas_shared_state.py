"""Two replicas of the shop (two gunicorns, as `docker compose up --scale web=2` runs them) over
one database and one Redis: what one process kept for itself before must be the same on both.

docs/deploy.md lists everything a process keeps and why each is shared or harmless; this
checks the ones a customer would notice: an item edit on the catalog's pages, the visitor's
session (their cart and orders) and the abuse limits' counts.
"""

import time
from collections.abc import Iterator

import pytest
import redis
import requests

from tests.fake_stripe import FakeStripe
from tests.gunicorn_server import Server, database, gunicorn, manage
from tests.redis_dbs import REPLICAS_URL

pytestmark = pytest.mark.db_independent

REDIS_URL = REPLICAS_URL
# Page templates link static files by their plain names here: the test has no collectstatic.
SETTINGS = """
from config.settings import *  # noqa: F403
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
"""


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, fake_stripe_server: FakeStripe
) -> Iterator[tuple[Server, Server]]:
    folder = tmp_path_factory.mktemp("replicas")
    (folder / "replica_settings.py").write_text(SETTINGS)
    env = {
        "DATABASE_URL": database(folder),
        "PYTHONPATH": str(folder),
        "DJANGO_SETTINGS_MODULE": "replica_settings",
        "REDIS_URL": REDIS_URL,
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
        "STRIPE_API_KEY": "sk_test_replicas",
        "STRIPE_API_BASE": fake_stripe_server.url,
        "SHOP_THROTTLE_BUY_PER_ADDRESS": "4/h",  # fixed windows: an hour, so no run crosses one
        "CATALOG_PAGE_REFRESH_SECONDS": "1",
    }
    (folder / "a").mkdir()
    (folder / "b").mkdir()
    with gunicorn(folder / "a", **env) as a, gunicorn(folder / "b", **env) as b:
        yield a, b


@pytest.fixture
def replicas(
    servers: tuple[Server, Server], fake_stripe_server: FakeStripe
) -> Iterator[tuple[Server, Server]]:
    """The two replicas, with Redis's counts and the fake Stripe emptied for each test."""
    shared = redis.Redis.from_url(REDIS_URL)
    shared.flushdb()
    fake_stripe_server.reset()
    yield servers
    shared.flushdb()
    fake_stripe_server.reset()


def _item(server: Server, name: str) -> str:
    return manage(
        server_database(server),
        "shell",
        "-c",
        f"from kassa.catalog.models import Item; "
        f"print(Item.objects.create(name={name!r}, price='9.50', currency='usd',"
        " requires_shipping=False).pk)",
    ).splitlines()[-1]


def server_database(server: Server) -> str:
    return f"sqlite:///{server.stdout.parent.parent / 'shop.sqlite3'}"


def test_an_item_edit_shows_on_every_replicas_pages(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    item_id = _item(a, "Blue mug")
    for replica in (a, b):  # each keeps its own copy of the page now
        page = requests.get(f"{replica.base}/item/{item_id}/", timeout=10)
        assert page.status_code == 200, page.text[:300]
        assert "Blue mug" in page.text
    manage(
        server_database(a),
        "shell",
        "-c",
        f"from kassa.catalog.models import Item; i = Item.objects.get(pk={item_id}); "
        "i.name = 'Red mug'; i.save()",
    )
    deadline = time.monotonic() + 10
    showing: dict[str, bool] = {}
    while time.monotonic() < deadline:
        showing = {
            replica.base: "Red mug"
            in requests.get(f"{replica.base}/item/{item_id}/", timeout=10).text
            for replica in (a, b)
        }
        if all(showing.values()):
            break
        time.sleep(0.2)
    assert all(showing.values()), showing


def test_a_new_default_tax_reaches_buy_now_on_every_replica(
    replicas: tuple[Server, Server],
) -> None:
    """Each replica keeps the default taxes (kassa.orders.checkout_defaults); a Tax saved on one
    retires what both keep within CATALOG_PAGE_REFRESH_SECONDS (1 s here). Four Buy clicks in
    all: the abuse limit's per-address count above."""
    a, b = replicas
    item_id = _item(a, "Mug")

    def tax_of_a_new_buy(replica: Server) -> str:
        bought = requests.get(f"{replica.base}/buy/{item_id}", timeout=30)
        assert bought.status_code == 200, bought.text
        order_id = bought.json()["order_id"]
        return manage(
            server_database(a),
            "shell",
            "-c",
            "from kassa.orders.models import Order; "
            f"print(Order.objects.get(pk={order_id}).tax_id)",
        ).splitlines()[-1]

    assert [tax_of_a_new_buy(replica) for replica in (a, b)] == ["None", "None"]  # kept: none
    tax_id = manage(
        server_database(a),
        "shell",
        "-c",
        "from kassa.orders.models import Tax; print(Tax.objects.create("
        "name='VAT', percentage='20', applies_to_every_order=True).pk)",
    ).splitlines()[-1]
    try:
        time.sleep(1.5)
        assert [tax_of_a_new_buy(replica) for replica in (a, b)] == [tax_id, tax_id]
    finally:  # the replicas' database outlives the test; the fake Stripe's tax rate does not
        manage(
            server_database(a),
            "shell",
            "-c",
            "from kassa.orders.models import Order, Tax; Order.objects.filter(tax__isnull=False)"
            ".update(tax=None); Tax.objects.all().delete()",
        )


def test_a_visitors_session_is_theirs_on_every_replica(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    item_id = _item(a, "Mug")
    visitor = requests.Session()
    bought = visitor.get(f"{a.base}/buy/{item_id}", timeout=30)
    assert bought.status_code == 200, bought.text
    order_id = bought.json()["order_id"]
    json = {"Accept": "application/json"}

    mine = visitor.get(f"{b.base}/orders/{order_id}/", headers=json, timeout=10)
    assert mine.status_code == 200
    assert mine.json()["id"] == order_id
    stranger = requests.get(f"{b.base}/orders/{order_id}/", headers=json, timeout=10)
    assert stranger.status_code == 404


def test_the_abuse_limits_count_across_replicas(replicas: tuple[Server, Server]) -> None:
    """Four payment starts a minute per address (set above), over both replicas together."""
    a, b = replicas
    item_id = _item(a, "Mug")
    statuses = [
        requests.get(f"{replica.base}/buy/{item_id}", timeout=30).status_code
        for replica in (a, b, a, b, a, b)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]
