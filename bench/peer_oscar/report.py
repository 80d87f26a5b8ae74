"""The peer comparison's table: for each page, each shop's throughput, median latency and CPU
per request, and Kassa ÷ Oscar as the median of the rounds' own ratios (each round's listed),
with each shop's SQL queries for the page."""

from typing import Any

from bench.drive import PAGE_CLIENTS
from bench.load import Load
from bench.report import _errors_line, _listed, _median, _others_line

ROWS = {
    "trivial": "trivial view (no database, no template)",
    "catalog": "catalog, first page (Kassa `/`, Oscar `/catalogue/`)",
    "product": "product page (Kassa `/item/<id>/`, Oscar `/catalogue/<slug>_<id>/`)",
    "add": "add to basket, a new visitor (POST, then a redirect)",
}


# Fewer requests than this in a load make its throughput, and the ratio, a rough figure.
FEW_REQUESTS = 30


def _few(side: str, loads: list[Load]) -> str:
    counts = [load.requests for load in loads]
    if min(counts) >= FEW_REQUESTS:
        return ""
    return f"; {side} finished {min(counts)}-{max(counts)} requests a load: a rough figure"


def round_ratios(kassa: list[float], oscar: list[float]) -> list[float]:
    """Each round's Kassa ÷ Oscar: the two loads of a round ran seconds apart."""
    return [k / o if o else float("inf") for k, o in zip(kassa, oscar, strict=True)]


def _queries(counts: list[int]) -> str:
    """A page's queries: once (the same each time), or the first request's then the next's."""
    first, then = counts
    return str(first) if first == then else f"{first}, then {then}"


def _side(loads: list[Load]) -> str:
    return (
        f"{_median([r.per_second for r in loads]):.0f} "
        f"| {_median([r.p50_ms for r in loads]):.1f} ms "
        f"| {_median([r.server_cpu_ms for r in loads]):.2f} / "
        f"{_median([r.database_cpu_ms for r in loads]):.2f} ms"
    )


def table(peer: dict[str, Any]) -> list[str]:
    rounds = peer["rounds"]
    installed = peer["oscar"]
    settings = installed.get("settings", {})
    loads = [load for by_side in rounds.values() for runs in by_side.values() for load in runs]
    count = len(rounds["trivial"]["kassa"])
    out = [
        f"Oscar: django-oscar {installed['django-oscar']} on Django {installed['django']}, "
        f"DEBUG {settings.get('DEBUG')}, cache {settings.get('cache')}, search "
        f"{settings.get('search')}, {settings.get('products_per_page')} products a page; "
        f"gunicorn as Kassa's ({peer['workers']['oscar']} workers, Kassa "
        f"{peer['workers']['kassa']}); {peer['products']['kassa']:,} products in Kassa, "
        f"{peer['products']['oscar']:,} in Oscar",
        _others_line(loads),
        _errors_line(loads),
        "",
        f"| page ({PAGE_CLIENTS} clients; medians of {count} rounds) | Kassa req/s | p50 "
        "| server / database CPU per request | Oscar req/s | p50 "
        "| server / database CPU per request "
        "| Kassa ÷ Oscar: median of the rounds' ratios (each round's) "
        "| SQL queries Kassa / Oscar |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for page, label in ROWS.items():
        kassa, oscar = rounds[page]["kassa"], rounds[page]["oscar"]
        ratios = round_ratios([r.per_second for r in kassa], [r.per_second for r in oscar])
        queries = peer["queries"]
        counted = (
            f"{_queries(queries['kassa'][page])} / {_queries(queries['oscar'][page])}"
            if page in queries["kassa"]
            else "–"
        )
        out.append(
            f"| {label} | {_side(kassa)} | {_side(oscar)} "
            f"| {_median(ratios):.2f} ({_listed(ratios)}){_few('Kassa', kassa)}"
            f"{_few('Oscar', oscar)} | {counted} |"
        )
    return out
