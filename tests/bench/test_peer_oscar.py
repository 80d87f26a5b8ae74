"""The peer comparison's own parts (bench/peer_oscar), without Oscar: the one list of products
both shops load, Kassa's loader of it, and the report's ratios. Nothing here installs or runs
Oscar; `make bench BENCH_ARGS="--peer oscar"` does."""

import ast
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from bench.load import Load
from bench.peer_oscar import catalog, report

OSCAR_SIDE = Path(catalog.__file__).with_name("project") / "oscar_side.py"


def test_the_list_is_the_same_when_read_back_from_its_file(tmp_path):
    listed = catalog.products()
    path = tmp_path / "products.json"
    catalog.write(path, listed)

    assert catalog.read(path) == listed == catalog.products()
    assert len(listed) == catalog.COUNT
    assert len({p.name for p in listed}) == catalog.COUNT
    assert all(Decimal(p.price).as_tuple().exponent == -2 for p in listed)
    assert 0 <= catalog.CHOSEN < catalog.COUNT


def test_oscars_loader_reads_every_field_of_the_list_and_no_other():
    """Oscar's loader runs in Oscar's virtualenv and reads the file as plain JSON: the keys it
    reads are the list's fields."""
    tree = ast.parse(OSCAR_SIDE.read_text())
    read = {
        node.slice.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "fields"
        and isinstance(node.slice, ast.Constant)
    }
    assert read == {field.name for field in fields(catalog.PeerProduct)}


@pytest.mark.django_db
def test_kassa_holds_the_list_as_written(tmp_path):
    from bench import django_side
    from kassa.catalog.models import Item

    listed = catalog.products(30)
    path = tmp_path / "products.json"
    catalog.write(path, listed)

    loaded = django_side.peer_catalog(str(path), "7")

    items = list(Item.objects.order_by("pk"))
    assert loaded == {"items": 30, "item": items[7].pk}
    assert [(i.name, i.description, i.price, i.currency) for i in items] == [
        (p.name, p.description, Decimal(p.price), catalog.CURRENCY) for p in listed
    ]
    assert [i.product.name for i in items] == [p.name for p in listed]


def _load(per_second: float) -> Load:
    return Load(
        path="/",
        clients=16,
        seconds=4,
        requests=round(per_second * 4),
        per_second=per_second,
        p50_ms=10.0,
        p99_ms=20.0,
        errors=0,
        server_cpu_ms=1.0,
        database_cpu_ms=0.5,
        stripe_calls=0,
        stripe_connections=0,
        other_cpu_percent=3,
    )


def test_each_rounds_ratio_is_its_own():
    assert report.round_ratios([100, 50, 90], [50, 50, 30]) == [2.0, 1.0, 3.0]


def test_the_table_gives_the_median_of_the_rounds_ratios_not_the_ratio_of_medians():
    kassa, oscar = [100.0, 50.0, 90.0], [50.0, 50.0, 30.0]
    peer = {
        "oscar": {"django-oscar": "4.2.1", "django": "5.2.19", "settings": {}},
        "workers": {"kassa": 4, "oscar": 4},
        "products": {"kassa": 10_000, "oscar": 10_000},
        "queries": {"kassa": {"catalog": [3, 0]}, "oscar": {"catalog": [40, 40]}},
        "rounds": {
            page: {
                "kassa": [_load(n) for n in kassa],
                "oscar": [_load(n) for n in oscar],
            }
            for page in report.ROWS
        },
    }

    rows = [line for line in report.table(peer) if line.startswith("| catalog")]

    # Medians 90 and 50 would give 1.80; the rounds' own ratios are 2, 1 and 3.
    assert "| 2.00 (2.00, 1.00, 3.00) |" in rows[0]
    assert rows[0].endswith("| 3, then 0 / 40 |")


def test_a_row_of_few_requests_says_its_ratio_is_rough():
    peer = {
        "oscar": {"django-oscar": "4.2.1", "django": "5.2.19", "settings": {}},
        "workers": {"kassa": 4, "oscar": 4},
        "products": {"kassa": 10_000, "oscar": 10_000},
        "queries": {"kassa": {}, "oscar": {}},
        "rounds": {
            page: {"kassa": [_load(600.0)] * 2, "oscar": [_load(0.25), _load(1.25)]}
            for page in report.ROWS
        },
    }

    row = next(line for line in report.table(peer) if line.startswith("| catalog"))

    assert "Oscar finished 1-5 requests a load: a rough figure" in row
    assert "Kassa finished" not in row
