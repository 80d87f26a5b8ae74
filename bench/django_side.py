"""The benchmark's Django-side steps, run in-process against the bench database.

    python -m bench.django_side queries   # SQL queries per page at two sizes (rolled back)
    python -m bench.django_side seed      # the catalog, orders and visitors the load needs
    python -m bench.django_side grow      # the catalog grown to 10,000 items (bulk)
    python -m bench.django_side import_csv        # seconds to import 10,000 CSV rows (rolled back)
    python -m bench.django_side flash_item        # a new item for one flash sale
    python -m bench.django_side flash_orders <id> # what that sale left in the database
    python -m bench.django_side peer_catalog <json> <n>  # the peer comparison's products (bulk)
    python -m bench.django_side peer_queries <id>        # its pages' queries (bench/peer_oscar)

Each prints JSON for the bench (bench/processes.py runs them); DJANGO_SETTINGS_MODULE and
DATABASE_URL come from the caller.
"""

import json
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY  # noqa: E402
from django.contrib.auth import SESSION_KEY as SESSION_KEY_AUTH  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.cache import caches  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from bench.peer_oscar import catalog as peer  # noqa: E402
from kassa.catalog import revision, shopify_csv  # noqa: E402
from kassa.catalog.models import Collection, CollectionProduct, Item, Product  # noqa: E402
from kassa.customers.models import Customer  # noqa: E402
from kassa.orders.models import Discount, Order, OrderLine, ShippingRate, Tax  # noqa: E402
from kassa.storefront.visitors import SESSION_KEY  # noqa: E402

CATALOG_SIZE = 50
# What wrk sends: the production settings expect the TLS proxy's header.
REQUEST = {"HTTP_HOST": "127.0.0.1", "HTTP_X_FORWARDED_PROTO": "https"}


# What the items are called, in turn: one in twenty is a "Кружка", which the bench's search
# ("кружки", bench/drive.py) finds by its stem.
PRODUCTS = [
    "Кружка", "Mug", "Teapot", "Towel", "Notebook", "Pencil", "Apron", "Bowl", "Candle", "Basket",
    "Чайник", "Полотенце", "Блокнот", "Карандаш", "Фартук", "Миска", "Свеча", "Корзина", "Plate",
    "Тарелка",
]  # fmt: skip
LARGE_CATALOG = 10_000
DEEP_PAGE = 200
# The flash sale's item has this many in stock once items have a stock (Item.stock).
FLASH_STOCK = 50
# Orders that hold an item: being paid, or paid.
HOLDING = [Order.Status.PENDING, Order.Status.PAID]


def _item(n: int) -> Item:
    return Item(
        name=f"{PRODUCTS[n % len(PRODUCTS)]} {n:05d}",
        description="A fine thing, made to last.\nIt comes in a box.",
        price=Decimal("12.34") + n % 100,
        currency="usd",
    )


def _items(count: int, *, start: int = 0) -> list[Item]:
    items = []
    for n in range(start, start + count):
        item = _item(n)
        item.save()
        items.append(item)
    return items


def _grow(to: int) -> None:
    """Items up to `to` in all, each a product of one variant, in bulk (bulk writes send no
    signals: bump the revision)."""
    start = Item.objects.count()
    items = [_item(n) for n in range(start, to)]
    products = Product.objects.bulk_create(
        (Product(name=item.name, handle=f"bench-{n}") for n, item in enumerate(items, start)),
        batch_size=2000,
    )
    for item, product in zip(items, products, strict=True):
        item.product = product
    Item.objects.bulk_create(items, batch_size=2000)
    revision.bump()
    if connection.vendor == "postgresql":
        # What autovacuum does within a minute of a bulk import: without statistics the planner
        # would search a freshly filled table without its GIN index.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_item")


def _visitor(user: User | None = None) -> tuple[str, str]:
    """A visitor token in a fresh session, signed in as `user` if given: (token, session key
    for the cookie)."""
    token = secrets.token_hex(16)
    session = SessionStore()
    session[SESSION_KEY] = token
    if user is not None:  # what django.contrib.auth.login() keeps in the session
        session[SESSION_KEY_AUTH] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return token, session.session_key


def _order(
    items: list[Item],
    *,
    discount: Discount | None = None,
    tax: Tax | None = None,
    visitor: tuple[str, str] | None = None,
    status: str = Order.Status.OPEN,
    user: User | None = None,
) -> dict[str, Any]:
    token, session_key = visitor or _visitor(user)
    order = Order.objects.create(
        currency="usd", visitor_token=token, discount=discount, tax=tax, status=status, user=user
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, item=item, quantity=1 + n % 3, unit_price=item.price)
        for n, item in enumerate(items)
        if item.product_id is not None  # a saved item is a product of one variant
    )
    return {"id": order.pk, "session": session_key}


def _count(path: str, session_key: str = "") -> int:
    """Queries of one GET, the page rendered afresh (a shared catalog page is kept rendered)."""
    caches["pages"].clear()
    caches["searches"].clear()
    client = Client()
    if session_key:
        client.cookies["sessionid"] = session_key
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **REQUEST)  # type: ignore[arg-type]
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return len(queries)


def queries() -> dict[str, list[tuple[str, int]]]:
    """Queries per request for each page, small and large: equal counts mean no N+1."""
    counts: dict[str, list[tuple[str, int]]] = {}
    # Each request reads the catalog revision, as the first request of every second does.
    with transaction.atomic(), override_settings(CATALOG_PAGE_REFRESH_SECONDS=0):
        discount = Discount.objects.create(name="Ten", percent_off=Decimal("10"))
        tax = Tax.objects.create(name="VAT", percentage=Decimal("20"))
        items = _items(1)
        one = _order(items, discount=discount, tax=tax)
        counts["`/`"] = [("1 item", _count("/"))]
        counts["`/item/<id>/`"] = [("1 item in catalog", _count(f"/item/{items[0].pk}/"))]
        counts["`/orders/<id>/`"] = [("1 line", _count(f"/orders/{one['id']}/", one["session"]))]
        visitor = _visitor()
        _order(items, visitor=visitor)
        counts["`/orders/`"] = [("1 order", _count("/orders/", visitor[1]))]

        items += _items(CATALOG_SIZE - 1, start=1)
        fifty = _order(items, discount=discount, tax=tax)
        counts["`/`"].append((f"{len(items)} items", _count("/")))
        counts["`/item/<id>/`"].append(
            (f"{len(items)} items in catalog", _count(f"/item/{items[0].pk}/"))
        )
        counts["`/orders/<id>/`"].append(
            (f"{len(items)} lines", _count(f"/orders/{fifty['id']}/", fifty["session"]))
        )
        # A visitor has one open cart at most (order_one_cart_per_visitor): the rest of a
        # history is orders already paid for.
        for _ in range(4):
            _order(items, discount=discount, tax=tax, visitor=visitor, status=Order.Status.PAID)
        counts["`/orders/`"].append(("5 orders of up to 50 lines", _count("/orders/", visitor[1])))
        search = f"/?q={quote('кружки')}"
        deep = f"/?page={DEEP_PAGE}"
        counts["`/?q=кружки`"] = [(f"{len(items)} items", _count(search))]
        counts[f"`/?page={DEEP_PAGE}` (the last page when fewer)"] = [
            (f"{len(items)} items", _count(deep))
        ]

        _grow(LARGE_CATALOG)
        large = f"{LARGE_CATALOG} items"
        counts["`/`"].append((large, _count("/")))
        counts["`/item/<id>/`"].append((f"{large} in catalog", _count(f"/item/{items[0].pk}/")))
        counts["`/?q=кружки`"].append((large, _count(search)))
        counts[f"`/?page={DEEP_PAGE}` (the last page when fewer)"].append((large, _count(deep)))
        transaction.set_rollback(True)
    with transaction.atomic(), override_settings(CATALOG_PAGE_REFRESH_SECONDS=0):
        counts.update(_product_queries())
        transaction.set_rollback(True)
    return counts


# Products at scale: 10,000 products of five variants, one of them of 100 variants.
SCALE_PRODUCTS = 10_000
SIZES = ["XS", "S", "M", "L", "XL"]


def _products(start: int, to: int, collection: Collection) -> None:
    products = Product.objects.bulk_create(
        (
            Product(name=f"Tee {n:05d}", handle=f"tee-{n}", option1_name="Size")
            for n in range(start, to)
        ),
        batch_size=2000,
    )
    Item.objects.bulk_create(
        (
            Item(
                product=p,
                name=f"{p.name} — {size}",
                option1=size,
                position=i,
                price=Decimal(10 + i),
                stock=i,
            )
            for p in products
            for i, size in enumerate(SIZES)
        ),
        batch_size=5000,
    )
    CollectionProduct.objects.bulk_create(
        (CollectionProduct(collection=collection, product=p, position=p.pk) for p in products),
        batch_size=5000,
    )


def _wide(product: Product, variants: int) -> None:
    have = product.variants.count()
    Item.objects.bulk_create(
        Item(product=product, name=f"Wide {n}", option1=f"W{n:03d}", position=n, price=10)
        for n in range(have, variants)
    )


def _product_queries() -> dict[str, list[tuple[str, int]]]:
    """The product pages' queries with 10 products of 50 variants and 10,000 of 50,000."""
    collection = Collection.objects.create(name="All", handle="bench-all")
    wide = Product.objects.create(name="Wide", handle="bench-wide", option1_name="Fit")
    pages = {
        "`/` (products)": "/",
        "`/collections/<handle>/`": "/collections/bench-all/",
        "`/collections/<handle>/?option=Size:M&min=…&in_stock=1`": (
            "/collections/bench-all/?option=Size:M&min=11&max=13&in_stock=1"
        ),
        "`/products/<handle>/` (10, then 100 variants)": "/products/bench-wide/",
        "`/api/v1/products`": "/api/v1/products",
        "`/sitemap.xml`": "/sitemap.xml",
    }
    _products(0, 10, collection)
    _wide(wide, 10)
    _analyze()
    counts = {name: [("10 products", _count(path))] for name, path in pages.items()}
    _products(10, SCALE_PRODUCTS, collection)
    _wide(wide, 100)
    revision.bump()
    _analyze()
    for name, path in pages.items():
        counts[name].append((f"{SCALE_PRODUCTS} products, 50,000 variants", _count(path)))
    return counts


def _analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_item; ANALYZE catalog_product")


def import_csv() -> dict[str, Any]:
    """Seconds to import a Shopify CSV of 10,000 rows (2,000 products of 5 sizes) into the
    catalog, then the same file again (nothing to change), then with every price changed;
    rolled back."""
    rows = [
        "Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Inventory Qty"
    ]
    for p in range(2000):
        for i, size in enumerate(SIZES):
            first = f"Imported tee {p},Size" if i == 0 else ","
            rows.append(f"imported-{p},{first},{size},IMP-{p}-{size},{10 + i}.50,{i * 3}")
    text = "\n".join(rows) + "\n"
    seconds: dict[str, Any] = {"rows": len(rows) - 1}
    with transaction.atomic():
        for run, body in (
            ("new", text),
            ("again", text),
            ("prices changed", text.replace(".50,", ".75,")),
        ):
            started = time.monotonic()
            shopify_csv.apply(shopify_csv.read(body, currency="usd"))
            seconds[run] = round(time.monotonic() - started, 1)
        transaction.set_rollback(True)
    return seconds


# The Buy runs' item counts its stock, so each click takes its unit (kassa.orders.stock) as a
# sale's would: more than the runs can sell, so none is refused.
BUY_STOCK = 5_000_000


def seed() -> dict[str, Any]:
    # The items are goods to send, which a shop sells only with a rate in their currency.
    ShippingRate.objects.create(name="Standard post", amount=Decimal("4.90"), currency="usd")
    items = _items(CATALOG_SIZE)
    items[0].stock = BUY_STOCK
    items[0].save()
    discount = Discount.objects.create(name="Bench 10%", percent_off=Decimal("10"))
    tax = Tax.objects.create(name="VAT", percentage=Decimal("20"), inclusive=False)
    cart = _order(items[:1])
    collection = Collection.objects.create(name="Everything", handle="bench-everything")
    CollectionProduct.objects.bulk_create(
        CollectionProduct(collection=collection, product_id=item.product_id, position=n)
        for n, item in enumerate(items)
        if item.product_id is not None  # a saved item is a product of one variant
    )
    user = User.objects.create_user("customer@example.com")
    Customer.objects.create(user=user, email="customer@example.com")
    customers_cart = _order(items[1:3], user=user)
    return {
        "item": items[0].pk,
        "collection": f"/collections/{collection.handle}/",
        # A returning visitor: a cart of one line, and the CSRF cookie their first page set.
        "returning_cookie": f"sessionid={cart['session']}; csrftoken={get_random_string(32)}",
        # A signed-in customer with a cart of two lines.
        "customer_cookie": (
            f"sessionid={customers_cart['session']}; csrftoken={get_random_string(32)}"
        ),
        # Three orders with a discount and a tax: the first checkout makes the coupon and the tax
        # rate, the later two show what every later checkout costs in Stripe calls.
        "checkout_orders": [_order(items[:3], discount=discount, tax=tax) for _ in range(3)],
    }


def _has_stock() -> bool:
    return any(field.name == "stock" for field in Item._meta.get_fields())


def flash_item() -> dict[str, Any]:
    """An item of its own for each flash-sale run, with FLASH_STOCK in stock where stock exists."""
    item = _item(0)
    item.name = "Flash sale"
    if _has_stock():
        setattr(item, "stock", FLASH_STOCK)  # noqa: B010 - a field not every version has
    item.save()
    return {"item": item.pk, "stock": FLASH_STOCK if _has_stock() else None}


def flash_orders(item_id: str) -> dict[str, Any]:
    """The orders the sale made for the item, by status, and how many hold it beyond its stock."""
    orders = Order.objects.filter(lines__item_id=int(item_id)).distinct()
    by_status: dict[str, int] = {}
    for status in orders.values_list("status", flat=True):
        by_status[status] = by_status.get(status, 0) + 1
    holding = orders.filter(status__in=HOLDING).count()
    stock = FLASH_STOCK if _has_stock() else None
    return {
        "by_status": by_status,
        "holding": holding,
        "oversold": max(0, holding - stock) if stock is not None else None,
    }


def peer_catalog(path: str, chosen: str) -> dict[str, Any]:
    """The peer comparison's products (bench/peer_oscar/catalog.py), each a product of one
    variant, in bulk as `_grow` makes them: how many items there are, and the item of the
    `chosen`-th product (the one whose page is loaded and which goes in the cart)."""
    listed = peer.read(Path(path))
    products = Product.objects.bulk_create(
        (
            Product(name=p.name, description=p.description, handle=f"peer-{n}")
            for n, p in enumerate(listed)
        ),
        batch_size=2000,
    )
    items = Item.objects.bulk_create(
        (
            Item(
                product=product,
                name=p.name,
                description=p.description,
                price=Decimal(p.price),
                currency=peer.CURRENCY,
            )
            for p, product in zip(listed, products, strict=True)
        ),
        batch_size=2000,
    )
    revision.bump()
    _analyze()
    return {"items": Item.objects.count(), "item": items[int(chosen)].pk}


def peer_queries(item_id: str) -> dict[str, list[int]]:
    """The peer comparison's pages' queries, each asked twice by new visitors: the first time
    with the shared copies dropped (rendered afresh), then as the next visitor finds them."""
    add = f"/item/{item_id}/add-to-order/"
    pages = {"catalog": "/", "product": f"/item/{item_id}/"}
    counts: dict[str, list[int]] = {}
    for name, path in pages.items():
        counts[name] = [_count(path), _count_again(path)]
    counts["add"] = [_count_post(add), _count_post(add)]
    return counts


def _count_again(path: str) -> int:
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **REQUEST)  # type: ignore[arg-type]
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return len(queries)


def _count_post(path: str) -> int:
    """Queries of a new visitor's add to the cart (the test client skips the CSRF check)."""
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, {"quantity": "1"}, **REQUEST)  # type: ignore[arg-type]
    if response.status_code != 302:
        raise RuntimeError(f"POST {path} answered {response.status_code}")
    return len(queries)


def grow() -> dict[str, Any]:
    _grow(LARGE_CATALOG)
    return {"items": Item.objects.count(), "deep_page": DEEP_PAGE}


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    commands: dict[str, Any] = {
        "seed": seed,
        "queries": queries,
        "import_csv": import_csv,
        "grow": grow,
        "flash_item": flash_item,
        "flash_orders": flash_orders,
        "peer_catalog": peer_catalog,
        "peer_queries": peer_queries,
    }
    if command not in commands:
        sys.exit(__doc__)
    json.dump(commands[command](*sys.argv[2:]), sys.stdout)
