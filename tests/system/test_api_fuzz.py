"""schemathesis against the running shop: every operation of /api/v1/openapi.json with data made
from the schema, valid and invalid, through a real HTTP server (pytest-django's live_server, in
this process, so the fake Stripe's settings reach it). No answer may be a 500, every answer must
match the schema, and a request the schema forbids must not succeed."""

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from pytest_django.live_server_helper import LiveServer
from schemathesis.config import SchemathesisConfig

from kassa.api.routes import api
from tests.factories import DiscountFactory, ItemFactory
from tests.fake_stripe import FakeStripe

# Enough to reach every status each operation documents, few enough for CI's time (about 15 s
# in all on a 2-core machine); derandomized, so a failure comes back on the next run.
EXAMPLES = 20
STATEFUL_SCENARIOS = 15


@pytest.fixture
def api_session(live_server: LiveServer, fake_stripe: FakeStripe) -> Iterator[requests.Session]:
    """A visitor with a cart, a CSRF token and a shop whose payments go to the fake Stripe."""
    items = [ItemFactory.create(price=Decimal("12.34")) for _ in range(3)]
    ItemFactory.create(price=Decimal("1500"), currency="jpy")
    DiscountFactory.create(code="WELCOME")
    session = requests.Session()
    token = session.get(f"{live_server.url}/api/v1/csrf", timeout=10).json()["csrf_token"]
    session.headers["X-CSRFToken"] = token
    session.headers["Referer"] = live_server.url
    added = session.post(
        f"{live_server.url}/api/v1/cart/lines", json={"item_id": items[0].pk}, timeout=10
    )
    assert added.status_code == 201, added.text
    yield session
    session.close()


# The schema the shop serves, read here rather than over HTTP: the tests are made from it while
# they are collected, before any server runs (test_api.py checks /api/v1/openapi.json is it).
schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(api.get_openapi_schema())),  # as served: status codes as strings
    config=SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "all"},
            # A 400 is the shop refusing well-formed data on its own grounds (a discount code it
            # does not know, a total too large to charge): the schema cannot say those. Malformed
            # data is a 422, which still counts as a refusal. A 401 is the account's operations
            # refusing a visitor who is not signed in (this session is not).
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "5xx"]
                }
            },
        }
    ),
)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_holds_to_its_schema(
    case: schemathesis.Case, live_server: LiveServer, api_session: requests.Session
) -> None:
    case.call_and_validate(base_url=live_server.url, session=api_session)


def test_sequences_of_calls_along_the_schemas_links(
    live_server: LiveServer, api_session: requests.Session
) -> None:
    """Stateful: schemathesis follows the schema's links (list the items → add one to the cart
    → change or remove its line, check out, pay, read the order; buy one now → the order),
    with the ids each answer gave, and checks every answer as above."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"base_url": live_server.url, "session": api_session}

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
