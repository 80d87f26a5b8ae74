import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system.deployment import Deployment, deployed

# Set when the deployment failed to come up: the tests after the first are failed at once,
# without bringing it up again for each of them.
_failed_to_start: list[str] = []


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The composed deployment, shared by the `deploy` tests (`make test-deploy` builds its
    image and runs them); brought down with its volumes at the end, also after a failure. What
    the tests measured goes to KASSA_DEPLOY_REPORT when it names a file."""
    if _failed_to_start:
        pytest.fail(f"the deployment did not come up: {_failed_to_start[0]}")
    try:
        running_deployment = deployed(tmp_path_factory.mktemp("deployment"))
        running = running_deployment.__enter__()
    except Exception as exc:
        _failed_to_start.append(str(exc).splitlines()[0])
        raise
    try:
        yield running
    finally:
        report = os.environ.get("KASSA_DEPLOY_REPORT")
        if report:
            Path(report).write_text(json.dumps(running.figures, indent=2) + "\n")
        running_deployment.__exit__(None, None, None)
