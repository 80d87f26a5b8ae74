"""The Redis the tests use, never a developer's data: by default a server the run starts for
itself on a free port and stops at its end (tests/conftest.py; needs `redis-server` on PATH),
or the server KASSA_TEST_REDIS_URL names. On it, three databases the tests empty before and
after they use them (KASSA_TEST_REDIS_DBS, default "9,12,13": the replicas' shared state,
Stripe's pace, the throttles' counts), so name a server of the tests' own: its data in those
databases is lost. Without either, redis://127.0.0.1:6379.
"""

import os

SERVER = os.environ.get("KASSA_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
_DBS = [int(db) for db in os.environ.get("KASSA_TEST_REDIS_DBS", "9,12,13").split(",")]
if len(_DBS) != 3:
    raise ValueError("KASSA_TEST_REDIS_DBS names three Redis databases, e.g. 9,12,13")

REPLICAS_URL = f"{SERVER}/{_DBS[0]}"
PACING_URL = f"{SERVER}/{_DBS[1]}"
THROTTLE_URL = f"{SERVER}/{_DBS[2]}"
