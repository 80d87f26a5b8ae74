"""Benchmark settings: production's, plus two bench-only views the shop itself never serves.

`make bench` runs gunicorn with these; the trivial views (bench/urls.py) are the yardsticks the
shop's pages and its Buy click are measured against.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
