"""The suite never uses a developer's Redis unless told to: without KASSA_TEST_REDIS_URL it starts
a server of its own on a free port (tests/conftest.py), and every Redis URL the tests hand the
shop (tests/redis_dbs.py) points there."""

import os
import shutil

import pytest

from tests import conftest, redis_dbs


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server on PATH")
def test_the_tests_use_a_redis_server_of_their_own() -> None:
    if conftest._own_redis is None:
        assert os.environ.get("KASSA_TEST_REDIS_URL"), (
            "neither a Redis of the tests' own nor one named"
        )
        pytest.skip("KASSA_TEST_REDIS_URL names the server the tests use")
    args = [str(arg) for arg in conftest._own_redis.args]  # type: ignore[union-attr]
    port = args[args.index("--port") + 1]

    assert os.environ["KASSA_TEST_REDIS_URL"] == f"redis://127.0.0.1:{port}"
    assert port != "6379"
    for url in (redis_dbs.REPLICAS_URL, redis_dbs.PACING_URL, redis_dbs.THROTTLE_URL):
        assert url.startswith(f"redis://127.0.0.1:{port}/")
