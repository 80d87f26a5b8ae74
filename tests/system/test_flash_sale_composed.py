"""A flash sale on the composed deployment: 300 buyers at once for 50 units through nginx and
three replicas, with the fake Stripe refusing calls past a rate below what the replicas could
send, and Redis (the replicas' shared pace and counts) killed in the middle of it."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.mail import wait_for
from tests.system.deployment import Deployment, run
from tests.system.shoppers import Seen, buy_now, percentile

pytestmark = pytest.mark.deploy

STOCK = 50
BUYERS = 300
# Calls a second the fake Stripe answers before it answers 429: half the shop's own pace for
# test keys (20 a second), far below what 48 threads over three replicas could send.
STRIPE_LIMIT = 10


def test_a_flash_sale_sells_exactly_the_stock_while_redis_dies(deployment: Deployment) -> None:
    item = deployment.item("Flash kettle", STOCK)
    fake = deployment.fake
    fake.set_latency(0.05)
    fake.set_rate_limit(STRIPE_LIMIT)
    refused_before = fake.rate_limited_count
    seen = Seen()
    start = threading.Barrier(BUYERS + 1)
    killed_at: list[float] = []

    def buyer() -> tuple[dict[str, object] | None, float]:
        start.wait(timeout=120)
        began = time.monotonic()
        checkout = buy_now(deployment, item, seen, seconds=300)
        return checkout, time.monotonic() - began

    [redis] = deployment.containers("redis")
    try:
        with ThreadPoolExecutor(max_workers=BUYERS) as pool:
            buyers = [pool.submit(buyer) for _ in range(BUYERS)]
            start.wait(timeout=120)
            began = time.monotonic()
            # Mid-sale: some checkouts made, most still to come.
            wait_for(lambda: seen.statuses[200] >= 10, seconds=120)
            run("docker", "kill", "--signal", "KILL", redis)
            killed_at.append(time.monotonic())
            sold_before_kill = seen.statuses[200]
            results = [done.result() for done in buyers]
            sale_seconds = time.monotonic() - began
    finally:
        fake.set_rate_limit(None)
        fake.set_latency(0)
        restarted_by_docker = deployment.inspect(redis)["State"]["Running"]
        deployment.compose("start", "redis")

    per_buyer = [seconds for _, seconds in results]
    deployment.figures["flash_sale"] = {
        "buyers": BUYERS,
        "stock": STOCK,
        "checkouts": seen.statuses[200],
        "refused_409": seen.statuses[409],
        "asked_to_wait_503": seen.statuses[503],
        "errors": sum(n for status, n in seen.statuses.items() if status not in (200, 409, 503)),
        "stripe_429s_absorbed": fake.rate_limited_count - refused_before,
        "checkouts_after_redis_killed": seen.statuses[200] - sold_before_kill,
        "redis_restarted_by_docker": restarted_by_docker,
        "request_p50_s": round(percentile(seen.latencies, 0.5), 3),
        "request_p99_s": round(percentile(seen.latencies, 0.99), 3),
        "buyer_p50_s": round(percentile(per_buyer, 0.5), 3),
        "buyer_p99_s": round(percentile(per_buyer, 0.99), 3),
        "sale_seconds": round(sale_seconds, 1),
    }

    won = [checkout for checkout, _ in results if checkout is not None]
    assert len(won) == STOCK
    assert len({str(checkout["id"]) for checkout in won}) == STOCK
    assert seen.statuses[200] - sold_before_kill > 0  # the sale went on without Redis
    assert seen.unclean == [], seen.unclean[:5]
    # Only checkouts, clean refusals and waits the Buy button follows: no Stripe 429 (nor any
    # other error) reached a customer, although Stripe refused calls.
    assert set(seen.statuses) <= {200, 409, 503}, seen.statuses
    assert fake.rate_limited_count > refused_before
    assert deployment.levels(item) == (STOCK, STOCK, STOCK)

    for checkout in won:
        deployment.pay(str(checkout["id"]))
    orders = ",".join(str(checkout["order_id"]) for checkout in won)
    wait_for(
        lambda: (
            deployment.value(
                f"SELECT count(*) FROM orders_order WHERE status = 'paid' AND id IN ({orders})"
            )
            == str(STOCK)
        ),
        seconds=120,
    )
    assert deployment.levels(item) == (0, 0, 0)
    assert deployment.value("SELECT count(*) FROM orders_order WHERE oversold") == "0"
