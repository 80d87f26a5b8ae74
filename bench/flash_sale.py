"""The flash sale: 200 buyers press Buy at the same moment, against a fake Stripe that answers
429 past Stripe's test-mode limit (25 calls a second), with the shop pacing itself or not.

Each buyer is a new visitor doing what the item page's Buy button does (static/kassa/checkout.js):
GET /buy/<id>, and on a 503 with Retry-After (the shop busy: nothing was started) wait that long
and ask again, up to 8 times. What a buyer ends with is a Checkout Session (200), a clean
"sold out" (409, once items have a stock), or an error: anything else, or still busy after
8 tries. Their wait is the time from the first press to that answer.
"""

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

BUYERS = 200
STRIPE_LIMIT = 25  # Stripe's own in test mode
BUSY_TRIES = 8  # as the Buy button


@dataclass
class Buyer:
    status: int  # the last answer's; 0: no answer (connection failed or timed out)
    seconds: float
    busy: int  # "busy, try again after Retry-After" answers followed


def _press(url: str) -> tuple[int, str | None]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return int(response.status), None
    except urllib.error.HTTPError as answer:
        answer.read()
        return int(answer.code), answer.headers.get("Retry-After")
    except OSError:
        return 0, None


def _buyer(url: str, start: threading.Barrier, out: list[Buyer], tries: int) -> None:
    start.wait()
    began = time.monotonic()
    busy = 0
    while True:
        status, retry_after = _press(url)
        if status != 503 or not retry_after or busy >= tries:
            break
        busy += 1
        time.sleep(min(int(retry_after), 10))
    out.append(Buyer(status, time.monotonic() - began, busy))


def buyers_at_once(url: str, count: int = BUYERS, *, follow_busy: bool = True) -> list[Buyer]:
    """`count` buyers pressing Buy at `url` together; what each ended with. Without
    `follow_busy`, as the Buy button did before it followed Retry-After: one press each."""
    out: list[Buyer] = []
    start = threading.Barrier(count)
    tries = BUSY_TRIES if follow_busy else 0
    threads = [threading.Thread(target=_buyer, args=(url, start, out, tries)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summary(
    label: str, buyers: list[Buyer], stripe: dict[str, int], orders: dict[str, Any]
) -> dict[str, Any]:
    """One row: what the buyers got, what Stripe saw (calls, 429s, its busiest second) and what
    the database holds (orders for the item, oversold once there is stock)."""
    waits = [buyer.seconds for buyer in buyers]
    started = sum(1 for buyer in buyers if buyer.status == 200)
    sold_out = sum(1 for buyer in buyers if buyer.status == 409)
    return {
        "label": label,
        "buyers": len(buyers),
        "started": started,
        "sold_out": sold_out,
        "errors": len(buyers) - started - sold_out,
        "error_statuses": sorted({b.status for b in buyers if b.status not in (200, 409)}),
        "busy_followed": sum(buyer.busy for buyer in buyers),
        "stripe_429s": stripe.get("429", 0),
        "stripe_sessions": stripe.get("POST /v1/checkout/sessions", 0),
        "stripe_busiest_second": stripe.get("busiest_second", 0),
        "wait_p50_s": round(_percentile(waits, 0.50), 2),
        "wait_p99_s": round(_percentile(waits, 0.99), 2),
        "wait_max_s": round(max(waits, default=0.0), 2),
        "orders": orders,
    }


def set_limit(fake_url: str, per_second: int) -> None:
    with urllib.request.urlopen(f"{fake_url}/_bench/limit?per_second={per_second}", timeout=5):
        pass


def line(row: dict[str, Any]) -> str:
    """One sale's row as the run prints it when the sale is over."""
    return (
        f"{row['label']}: {row['started']} checkouts started, {row['sold_out']} sold out, "
        f"{row['errors']} errors {row['error_statuses']}, {row['busy_followed']} busy answers "
        f"followed, Stripe {row['stripe_429s']} 429s / {row['stripe_sessions']} sessions, "
        f"busiest second {row['stripe_busiest_second']}, wait p50 {row['wait_p50_s']} s "
        f"p99 {row['wait_p99_s']} s max {row['wait_max_s']} s; orders {row['orders']}"
    )
