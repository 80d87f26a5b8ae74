from collections.abc import Callable

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.integrations.models import EventType, WebhookEndpoint
from kassa.integrations.signing import new_secret
from tests.webhook_receiver import Receiver, receiver

__all__ = ["receiver"]

MakeEndpoint = Callable[..., WebhookEndpoint]


@pytest.fixture(autouse=True)
def _fast_webhooks(settings: SettingsWrapper) -> None:
    """Receivers on 127.0.0.1 over http (the tests' own), retried within a fraction of a second."""
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_RETRY_SECONDS = [0.2]
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2.0


@pytest.fixture
def endpoint_for(receiver: Receiver) -> MakeEndpoint:
    """An enabled endpoint for `receiver` (which then checks signatures with its secret)."""

    def make(
        *events: str, url: str | None = None, target: Receiver | None = None
    ) -> WebhookEndpoint:
        target = target or receiver
        endpoint = WebhookEndpoint.objects.create(
            url=url or target.url,
            events=list(events) or [str(t) for t in EventType],
            secret=new_secret(),
            secret_created_at=timezone.now(),
        )
        target.secret = endpoint.secret
        return endpoint

    return make
