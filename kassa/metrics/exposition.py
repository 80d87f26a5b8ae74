"""The metrics as Prometheus reads them: this process's, or every gunicorn worker's summed, plus
what is read afresh at each scrape."""

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# Collectors whose values are read when /metrics is asked (a count in the database: e-mails
# waiting in the queue), not counted as things happen. What another process does (the mail
# worker, a cron command) reaches /metrics only this way: its own counters live in its process.
_read_at_scrape: list[Collector] = []


def read_at_scrape(collector: Collector) -> Collector:
    """Add `collector` to every exposition, e.g. from an app's ready()."""
    if collector not in _read_at_scrape:
        _read_at_scrape.append(collector)
    return collector


def exposition() -> tuple[bytes, str]:
    """The text exposition and its content type. Under gunicorn (PROMETHEUS_MULTIPROC_DIR set)
    the values of every worker, live or gone since, from their files; else this process's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    if _read_at_scrape:
        extra = CollectorRegistry()
        for collector in _read_at_scrape:
            extra.register(collector)
        body += generate_latest(extra)
    return body, CONTENT_TYPE_LATEST
