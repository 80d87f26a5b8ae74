"""The report of a run: its tables in Markdown (printed, and kept in the results' "table") and
the results as JSON in bench/results/<UTC time>.json."""

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import admin_rows, flash_sale
from bench.drive import LARGE_CATALOG, PAGE_CLIENTS, SEARCH_WORDS
from bench.load import Load
from bench.machine import machine_line
from bench.processes import ROOT, gunicorn_line

RESULTS = ROOT / "bench" / "results"
TARGETS = {
    "item_page": 0.7,
    "personal_page": 0.6,
    "buy_32_of_ideal": 0.8,
    "buy_64_of_ceiling": 0.75,
    # Milliseconds of the server's CPU per Buy click at 64 clients, at most.
    "buy_cpu_ms": 8.5,
}


def _others_line(loads: list[Load]) -> str:
    shares = [float(load.other_cpu_percent) for load in loads]
    return (
        f"CPU taken by other jobs during the runs: {_median(shares):.0f}% of the "
        f"machine (median), {max(shares):.0f}% at most"
    )


def _errors_line(loads: list[Load]) -> str:
    """Failed requests (connection errors, timeouts, non-2xx answers) count in wrk's req/s."""
    failed = [f"{load.errors} in {load.path} at {load.clients}" for load in loads if load.errors]
    return "failed requests: " + ("; ".join(failed) if failed else "none")


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _listed(ratios: list[float]) -> str:
    return ", ".join(f"{r:.2f}" for r in ratios)


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def _page_rows(pages: dict[str, list[Load]], rows: list[tuple[str, str, str]]) -> list[str]:
    """A row per page; a target names its TARGETS key."""
    out = []
    for name, label, target in rows:
        runs = pages.get(name)
        if not runs:
            continue
        ratios = [
            run.per_second / t.per_second for run, t in zip(runs, pages["trivial"], strict=True)
        ]
        ratio = _median(ratios)
        check = f"≥ {TARGETS[target]} {_mark(ratio >= TARGETS[target])}" if target else ""
        # The CPU a request cost the server moves less with other jobs than its throughput.
        cpu = _median([r.server_cpu_ms for r in runs])
        trivial_cpu = _median([t.server_cpu_ms for t in pages["trivial"]])
        out.append(
            f"| {label} | {_median([r.per_second for r in runs]):.0f} "
            f"| {_median([r.p50_ms for r in runs]):.1f} ms "
            f"| {_median([r.p99_ms for r in runs]):.1f} ms "
            f"| {ratio:.2f} ({_listed(ratios)}) | {check} "
            f"| {cpu:.2f} ms | {trivial_cpu / cpu if cpu else 0:.2f} |"
        )
    return out


def page_tables(results: dict[str, Any]) -> list[str]:
    """The machine, the server and the pages' tables (all `--only pages` shows)."""
    pages, buy = results["pages"], results.get("buy") or []
    out = [
        machine_line(results["machine"]),
        gunicorn_line(results["gunicorn"])
        + f"; fake Stripe latency {results['latency_s'] * 1000:.0f} ms",
        _others_line(
            loads := [
                *(load for runs in pages.values() for load in runs),
                *(load for runs in (results.get("pages_large") or {}).values() for load in runs),
                *(
                    load
                    for row in [*buy, results.get("pacer") or {}]
                    for k in ("buy", "one_call", "buy_unpaced")
                    for load in row.get(k, [])
                ),
            ]
        ),
        _errors_line(loads),
        "",
        f"| page ({PAGE_CLIENTS} clients; medians of {len(pages['trivial'])} rounds) | req/s "
        "| p50 | p99 | × trivial view: median of the rounds' ratios (each round's) | target "
        "| server CPU per request | trivial's CPU ÷ this page's |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    rows = [
        ("trivial", "trivial view (no DB, no template)", ""),
        ("catalog", "catalog `/`, first visit", ""),
        ("item", "item page `/item/<id>/`, first visit", "item_page"),
        ("collection", "collection `/collections/<handle>/`, first visit", ""),
        ("returning", "item page, returning visitor with a cart", "personal_page"),
        ("returning_catalog", "catalog, returning visitor with a cart", "personal_page"),
        ("returning_collection", "collection, returning visitor with a cart", "personal_page"),
        ("customer", "item page, signed-in customer with a cart", "personal_page"),
        ("customer_catalog", "catalog, signed-in customer with a cart", "personal_page"),
        ("customer_collection", "collection, signed-in customer with a cart", "personal_page"),
        ("search", f"search `/?q={SEARCH_WORDS}`, first visit", ""),
    ]
    out += _page_rows(pages, rows)
    large = results.get("pages_large") or {}
    if large:
        out += [
            "",
            f"| at {LARGE_CATALOG} items ({PAGE_CLIENTS} clients; medians of "
            f"{len(large['trivial'])} rounds) | req/s | p50 | p99 | × trivial view: median of "
            "the rounds' ratios (each round's) | target | server CPU per request "
            "| trivial's CPU ÷ this page's |",
            "|---|---:|---:|---:|---:|---|---:|---:|",
        ]
        out += _page_rows(
            large,
            [
                ("trivial", "trivial view (no DB, no template)", ""),
                ("catalog", "catalog `/`, first visit", ""),
                ("deep", "catalog page 200 `/?page=200`, first visit", ""),
                ("search", f"search `/?q={SEARCH_WORDS}`, first visit", ""),
                ("item", "item page `/item/<id>/`, first visit", "item_page"),
            ],
        )
    return out


def tables(results: dict[str, Any]) -> str:
    """The results as Markdown tables (docs/performance.md shows one run's)."""
    buy = results["buy"]
    out = page_tables(results)
    rounds = len(buy[0]["buy"]) if buy else 0
    out += [
        "",
        f"| clients (medians of {rounds} rounds) | ideal (clients / latency) "
        "| `/buy/<id>` checkouts/s | p50 | p99 | × ideal (each round's) "
        "| one-call view/s | p50 | p99 | `/buy` × one-call: median of the rounds' ratios "
        "(each round's) | server CPU per click (each round's) | target |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in buy:
        b, c = row["buy"], row["one_call"]
        of_ideals = [run.per_second / row["ideal_per_second"] for run in b]
        of_ceilings = [run.per_second / one.per_second for run, one in zip(b, c, strict=True)]
        of_ideal, of_ceiling = _median(of_ideals), _median(of_ceilings)
        cpus = [run.server_cpu_ms for run in b]
        cpu = _median(cpus)
        target = ""
        ideal_target, ceiling_target = TARGETS["buy_32_of_ideal"], TARGETS["buy_64_of_ceiling"]
        cpu_target = TARGETS["buy_cpu_ms"]
        if row["clients"] == 32:
            target = f"× ideal ≥ {ideal_target} {_mark(of_ideal >= ideal_target)}"
        if row["clients"] == 64:
            target = (
                f"× one-call ≥ {ceiling_target} {_mark(of_ceiling >= ceiling_target)}; "
                f"CPU ≤ {cpu_target} ms {_mark(cpu <= cpu_target)}"
            )
        out.append(
            f"| {row['clients']} | {row['ideal_per_second']:.0f}/s "
            f"| {_median([r.per_second for r in b]):.1f} "
            f"| {_median([r.p50_ms for r in b]):.0f} ms | {_median([r.p99_ms for r in b]):.0f} ms "
            f"| {of_ideal:.2f} ({_listed(of_ideals)}) | {_median([r.per_second for r in c]):.1f} "
            f"| {_median([r.p50_ms for r in c]):.0f} ms | {_median([r.p99_ms for r in c]):.0f} ms "
            f"| {of_ceiling:.2f} ({_listed(of_ceilings)}) "
            f"| {cpu:.2f} ms ({', '.join(f'{c:.2f}' for c in cpus)}) | {target} |"
        )
    out += _pacer_rows([results["pacer"]] if results.get("pacer") else [])
    out += ["", *flash_table(results.get("flash_sale") or [])]
    queries = results["queries"]
    out += ["", "| SQL queries per request | small | large | constant |", "|---|---:|---:|---|"]
    for page, sizes in queries.items():
        counts = {count for _label, count in sizes}
        out.append(
            f"| {page} | {sizes[0][1]} ({sizes[0][0]}) "
            f"| {' / '.join(f'{count} ({label})' for label, count in sizes[1:])} "
            f"| {_mark(len(counts) == 1)} |"
        )
    if results.get("import_csv"):
        run = results["import_csv"]
        out += [
            "",
            f"| Shopify CSV import, {run['rows']} rows | seconds |",
            "|---|---:|",
            *(f"| {name} | {run[name]} |" for name in ("new", "again", "prices changed")),
        ]
    first, *later = results["stripe_calls"]
    later_total = [sum(calls.values()) for calls in later]
    out += [
        "",
        "| Stripe API calls per checkout (order with a discount and a tax) | calls |",
        "|---|---:|",
        f"| first checkout (makes the coupon and the tax rate once) | {sum(first.values())} |",
        f"| every later checkout | {', '.join(map(str, later_total))} "
        f"{_mark(all(n == 1 for n in later_total))} |",
    ]
    memory = results["memory_mib"]
    out += [
        "",
        "| memory | peak RSS |",
        "|---|---:|",
        *(
            f"| gunicorn worker {n + 1} | {rss:.0f} MiB |"
            for n, rss in enumerate(memory["workers_peak_rss"])
        ),
        f"| gunicorn master | {memory['master_peak_rss']:.0f} MiB |",
    ]
    out += ["", *admin_table(results.get("admin"))]
    return "\n".join(out)


def admin_table(admin: dict[str, Any] | None) -> list[str]:
    """The admin's pages at SMALL_ORDERS orders and at `--orders`, their ratio per round."""
    if not admin:
        return []
    small, large = admin["small"], admin["large"]
    rounds = len(admin["rows"][0]["rounds"]) if admin["rows"] else 0
    out = [
        f"| admin page, one request at a time (medians of {rounds} rounds) | SQL queries at "
        f"{small:,} / {large:,} orders | at {small:,} | at {large:,} | × the time at {small:,}: "
        f"median (each round's) | target: same queries, ≤ {admin_rows.TARGET_RATIO:g} × |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in admin["rows"]:
        m = admin_rows.measure(row, small, large)
        label = row["label"]
        if row["key"] == "export":
            label += " (to its first byte)"
        out.append(
            f"| {label} | {row[f'queries_{small}']} / {row[f'queries_{large}']} "
            f"| {m['ms_small']:.0f} ms | {m['ms_large']:.0f} ms "
            f"| {m['ratio']:.2f} ({_listed(m['ratios'])}) | {_mark(m['met'])} |"
        )
    export = next((row for row in admin["rows"] if row["key"] == "export"), None)
    if export:
        whole = [r[str(large)]["total_s"] for r in export["rounds"]]
        size = export["rounds"][0][str(large)]["bytes"] if export["rounds"] else 0
        out.append(
            f"\nThe month's CSV at {large:,} orders: {size / 1e6:.1f} MB in "
            f"{_median(whole):.1f} s (median)."
        )
    return out


def _pacer_rows(buy: list[dict[str, Any]]) -> list[str]:
    """The /buy rows with the pacer in the path (through Redis, far above the load) beside the
    same shop without it, round by round."""
    rows = [row for row in buy if row.get("buy_unpaced")]
    if not rows:
        return []
    out = [
        "",
        f"| clients (medians of {len(rows[0]['buy'])} rounds) | `/buy` with the pacer "
        "(Redis) /s | p50 | p99 | without it /s | p50 | p99 | with ÷ without: median "
        "(each round's) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        on, off = row["buy"], row["buy_unpaced"]
        ratios = [a.per_second / b.per_second for a, b in zip(on, off, strict=True)]
        out.append(
            f"| {row['clients']} | {_median([r.per_second for r in on]):.1f} "
            f"| {_median([r.p50_ms for r in on]):.0f} ms "
            f"| {_median([r.p99_ms for r in on]):.0f} ms "
            f"| {_median([r.per_second for r in off]):.1f} "
            f"| {_median([r.p50_ms for r in off]):.0f} ms "
            f"| {_median([r.p99_ms for r in off]):.0f} ms "
            f"| {_median(ratios):.2f} ({_listed(ratios)}) |"
        )
    return out


def flash_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    stock = rows[0]["orders"].get("oversold")
    out = [
        f"| flash sale: {rows[0]['buyers']} buyers at once, Stripe limited to "
        f"{flash_sale.STRIPE_LIMIT}/s | checkouts started | sold out (409) | customer errors "
        "| busy answers followed | Stripe's 429s | Stripe's busiest second | wait p50 | p99 "
        "| oversold |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        oversold = row["orders"].get("oversold")
        out.append(
            f"| {row['label']} | {row['started']} | {row['sold_out']} "
            f"| {row['errors']}{' ' + str(row['error_statuses']) if row['errors'] else ''} "
            f"| {row['busy_followed']} | {row['stripe_429s']} | {row['stripe_busiest_second']} "
            f"| {row['wait_p50_s']:.1f} s | {row['wait_p99_s']:.1f} s "
            f"| {'no stock yet' if stock is None and oversold is None else oversold} |"
        )
    return out


def _json_ready(results: dict[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, Load):
            return asdict(value)
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    converted: dict[str, Any] = convert(results)
    return converted


def write(results: dict[str, Any], text: str, started_at: datetime, only: str | None) -> Path:
    """The results and their table as JSON in RESULTS, named by the run's start (and part)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-only-{only}" if only else ""
    path = RESULTS / f"{started_at.strftime('%Y%m%dT%H%M%SZ')}{suffix}.json"
    path.write_text(json.dumps({**_json_ready(results), "table": text}, indent=2) + "\n")
    return path
