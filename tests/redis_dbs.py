"""The Redis the tests use, never a developer's data: a server named by KASSA_TEST_REDIS_URL
(default redis://127.0.0.1:6379) and, on it, three databases the tests empty before and after
they use them (KASSA_TEST_REDIS_DBS, default "9,12,13": the replicas' shared state, Stripe's
pace, the throttles' counts). Point it at a server of the tests' own to keep the others out of
reach: `redis-server --port 6390 --save ''` and KASSA_TEST_REDIS_URL=redis://127.0.0.1:6390.
"""

import os

SERVER = os.environ.get("KASSA_TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
_DBS = [int(db) for db in os.environ.get("KASSA_TEST_REDIS_DBS", "9,12,13").split(",")]
if len(_DBS) != 3:
    raise ValueError("KASSA_TEST_REDIS_DBS names three Redis databases, e.g. 9,12,13")

REPLICAS_URL = f"{SERVER}/{_DBS[0]}"
PACING_URL = f"{SERVER}/{_DBS[1]}"
THROTTLE_URL = f"{SERVER}/{_DBS[2]}"
