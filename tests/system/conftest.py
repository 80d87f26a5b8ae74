import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.system.deployment import Deployment, deployed


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The composed deployment, shared by the `deploy` tests (`make test-deploy` builds its
    image and runs them); brought down with its volumes at the end, also after a failure. What
    the tests measured goes to KASSA_DEPLOY_REPORT when it names a file."""
    with deployed(tmp_path_factory.mktemp("deployment")) as running:
        try:
            yield running
        finally:
            report = os.environ.get("KASSA_DEPLOY_REPORT")
            if report:
                Path(report).write_text(json.dumps(running.figures, indent=2) + "\n")
