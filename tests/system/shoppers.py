"""Customers of the composed deployment: Buy now as the Buy button does it, over real HTTP
through the proxy, and what they saw."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.system.deployment import Deployment

# What a customer may see besides a checkout: a clean refusal (sold out), the shop asking them
# to wait (503 with Retry-After), or the proxy finding no replica for a moment (502/504), each
# of which the Buy button answers by asking again.
ASK_AGAIN = {502, 503, 504}


@dataclass
class Seen:
    """Every answer the customers got, by status, and the slowest parts of the story."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    unclean: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, answer: requests.Response | None, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if answer is None:
                self.statuses[0] += 1  # the connection failed
                return
            self.statuses[answer.status_code] += 1
            if answer.status_code != 200 and answer.status_code not in (502, 504):
                try:
                    body = answer.json()
                except ValueError:
                    body = None
                if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
                    self.unclean.append(f"{answer.status_code}: {answer.text[:200]}")
                if (
                    answer.status_code == 503
                    and not answer.headers.get("Retry-After", "").isdigit()
                ):
                    self.unclean.append(f"503 without Retry-After: {answer.text[:200]}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def buy_now(
    deployment: Deployment,
    item: int,
    seen: Seen,
    *,
    customer: requests.Session | None = None,
    seconds: float = 600,
) -> dict[str, Any] | None:
    """The Buy button: GET /buy/<item>; a 503's Retry-After (or a moment after a 502/504 or a
    failed connection) and ask again. The checkout's JSON, or None when refused (409)."""
    customer = customer or requests.Session()
    deadline = time.monotonic() + seconds
    while True:
        started = time.monotonic()
        answer: requests.Response | None
        try:
            answer = customer.get(
                f"{deployment.base}/buy/{item}", headers={"Accept": "application/json"}, timeout=60
            )
        except requests.RequestException:
            answer = None
        seen.record(answer, time.monotonic() - started)
        if answer is not None and answer.status_code == 200:
            body: dict[str, Any] = answer.json()
            return body
        if answer is not None and answer.status_code == 409:
            return None
        if answer is not None and answer.status_code not in ASK_AGAIN:
            raise AssertionError(f"Buy answered {answer.status_code}: {answer.text[:300]}")
        if time.monotonic() > deadline:
            raise AssertionError("Buy kept asking to wait")
        wait = answer.headers.get("Retry-After", "") if answer is not None else ""
        time.sleep(min(int(wait), 10) if wait.isdigit() else 0.5)
