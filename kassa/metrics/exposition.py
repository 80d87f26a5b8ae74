"""The metrics as Prometheus reads them: this process's, or every gunicorn worker's summed."""

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector


def exposition() -> tuple[bytes, str]:
    """The text exposition and its content type. Under gunicorn (PROMETHEUS_MULTIPROC_DIR set)
    the values of every worker, live or gone since, from their files; else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
