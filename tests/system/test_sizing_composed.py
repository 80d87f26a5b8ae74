"""What the composed deployment holds while Stripe is slow: PostgreSQL connections from three
replicas against max_connections, memory per container, the image's size (figures for
docs/deploy.md, written to KASSA_DEPLOY_REPORT)."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.system.deployment import REPLICAS, Deployment, run
from tests.system.shoppers import Seen, buy_now

pytestmark = pytest.mark.deploy

STRIPE_SECONDS = 3.0
BUYERS = 120


def _connections(deployment: Deployment) -> int:
    """The shop's connections to its database (the one asking is not counted)."""
    return int(
        deployment.value(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'kassa'"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
    )


def test_database_connections_stay_below_max_connections_while_stripe_is_slow(
    deployment: Deployment,
) -> None:
    settings = deployment.settings
    threads = REPLICAS * int(settings["WEB_CONCURRENCY"]) * int(settings["GUNICORN_THREADS"])
    max_connections = int(deployment.value("SHOW max_connections"))
    reserved = int(deployment.value("SHOW superuser_reserved_connections"))
    item = deployment.item("Slow stock", 10_000)
    deployment.fake.set_latency(STRIPE_SECONDS)
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(_connections(deployment))
            time.sleep(0.25)

    seen = Seen()
    try:
        with ThreadPoolExecutor(max_workers=BUYERS + 1) as pool:
            sampler = pool.submit(sample)
            buyers = [
                pool.submit(buy_now, deployment, item, seen, seconds=300) for _ in range(BUYERS)
            ]
            bought = [future.result() for future in buyers]
            done.set()
            sampler.result()
    finally:
        done.set()
        deployment.fake.set_latency(0)

    assert all(checkout is not None for checkout in bought)
    assert seen.unclean == []
    peak = max(samples)
    # One connection a thread at most (the web's threads and the worker's one), and room left
    # below the server's limit.
    assert peak <= threads + 1
    assert peak < max_connections - reserved

    memory = {}
    for line in run(
        "docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}"
    ).splitlines():
        name, usage = line.split("\t")
        memory[name] = usage.split(" / ")[0]
    deployment.figures["sizing"] = {
        "stripe_latency_s": STRIPE_SECONDS,
        "buyers": BUYERS,
        "web_threads_in_all": threads,
        "peak_database_connections": peak,
        "max_connections": max_connections,
        "superuser_reserved_connections": reserved,
        "answers": dict(seen.statuses),
        "memory": memory,
        "image_bytes": int(run("docker", "image", "inspect", "kassa-web", "--format", "{{.Size}}")),
        "base_image_bytes": int(
            run("docker", "image", "inspect", "python:3.11-slim", "--format", "{{.Size}}")
        ),
    }
