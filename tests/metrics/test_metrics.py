"""/metrics: what a purchase, a Stripe failure, a webhook and the pages count, read back by
parsing the exposition; and who may read it."""

import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest
import stripe
from django.test import Client
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.metrics.exposition import _read_at_scrape, read_at_scrape
from kassa.metrics.instruments import stripe_outcome
from kassa.orders.models import Order
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.production_env import ROOT, command_env
from tests.prometheus import Samples, parse, value
from tests.stripe_events import WEBHOOK_SECRET, event, post_event

TOKEN = "metrics-token-for-tests-0123456789"

pytestmark = pytest.mark.django_db


@pytest.fixture
def readable(settings: SettingsWrapper) -> SettingsWrapper:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    return settings


def scrape() -> Samples:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return parse(response.content.decode())


def deliver(evt: dict[str, object]) -> int:
    return post_event(evt).status_code


def test_a_purchase_moves_the_counters(
    fake_stripe: FakeStripe, readable: SettingsWrapper, django_capture_on_commit_callbacks
) -> None:
    item = ItemFactory.create(price=Decimal("12.50"), currency="eur", stock=5)
    readable.STRIPE_KEYS_BY_CURRENCY = {"eur": {"secret": "sk_test_eur", "publishable": "pk_e"}}
    readable.SHOP_STAFF_EMAILS = ["staff@example.com"]
    before = scrape()

    with django_capture_on_commit_callbacks(execute=True):
        body = Client().get(f"/buy/{item.pk}/").json()
        session = fake_stripe.resources.complete_checkout_session(body["id"])
        completed = event("checkout.session.completed", session)
        completed["created"] -= 30  # Stripe made it half a minute ago
        assert deliver(completed) == 200
        assert deliver(completed) == 200  # Stripe delivers it again
    assert Order.objects.get(pk=body["order_id"]).status == Order.Status.PAID
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    checkout = {"currency": "eur", "kind": "checkout_session"}
    assert moved("kassa_checkouts_started_total", **checkout) == 1
    assert moved("kassa_checkouts_paid_total", **checkout) == 1
    create = {"endpoint": "checkout.Session.create"}
    assert moved("kassa_stripe_calls_total", **create, outcome="ok") == 1
    assert moved("kassa_stripe_call_duration_seconds_count", **create) == 1
    assert moved("kassa_stripe_call_duration_seconds_sum", **create) > 0
    completed_type = {"type": "checkout.session.completed"}
    assert moved("kassa_webhook_events_total", **completed_type, outcome="processed") == 1
    assert moved("kassa_webhook_events_total", **completed_type, outcome="duplicate") == 1
    # Half a minute of lag: in the 60 s bucket, not the 15 s one.
    assert moved("kassa_webhook_lag_seconds_count", **completed_type) == 1
    assert moved("kassa_webhook_lag_seconds_bucket", **completed_type, le="60.0") == 1
    assert moved("kassa_webhook_lag_seconds_bucket", **completed_type, le="15.0") == 0
    # The pages' own metrics: by the route's name, whatever the id in the path.
    buy = {"view": "payments:buy", "method": "GET"}
    assert moved("kassa_http_requests_total", **buy, status="200") == 1
    assert moved("kassa_http_request_duration_seconds_count", **buy) == 1
    assert moved("kassa_http_requests_total", view="payments:webhook", method="POST", status="200")
    assert moved("kassa_http_requests_total", view="metrics", method="GET", status="200") == 1
    # The unit held by the Buy click, then sold; the mails the payment queued (sent by the worker).
    assert moved("kassa_stock_reservations_total", event="taken") == 1
    assert moved("kassa_stock_reserved_units_total", event="taken") == 1
    assert moved("kassa_stock_reservations_total", event="sold") == 1
    assert moved("kassa_stock_reservations_total", event="released") == 0
    assert moved("kassa_emails_total", kind="confirmation", outcome="queued") == 1
    assert moved("kassa_emails_total", kind="staff_new_order", outcome="queued") == 1


def test_a_failing_stripe_is_counted_by_outcome_and_error(
    fake_stripe: FakeStripe, readable: SettingsWrapper
) -> None:
    readable.STRIPE_MAX_NETWORK_RETRIES = 0  # one call each, whatever stripe-python would retry
    item = ItemFactory.create()
    before = scrape()
    sessions = "/v1/checkout/sessions"  # not the shipping rate made before the first
    fake_stripe.fail_next(status=503, path=sessions)
    assert Client().get(f"/buy/{item.pk}/").status_code == 503
    fake_stripe.fail_next(
        status=400, body={"error": {"type": "invalid_request_error"}}, path=sessions
    )
    assert Client().get(f"/buy/{item.pk}/").status_code == 502
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    create = {"endpoint": "checkout.Session.create"}
    assert moved("kassa_stripe_calls_total", **create, outcome="server_error") == 1
    assert moved("kassa_stripe_calls_total", **create, outcome="rejected") == 1
    failed = {"currency": item.currency, "kind": "checkout_session"}
    assert moved("kassa_checkouts_failed_total", **failed, error="PaymentProviderUnavailable") == 1
    assert moved("kassa_checkouts_failed_total", **failed, error="PaymentProviderRejected") == 1
    assert moved("kassa_checkouts_started_total", **failed) == 0


def test_refused_webhooks_and_unknown_paths_add_no_labels_of_their_own(
    readable: SettingsWrapper,
) -> None:
    before = scrape()
    assert Client().post("/stripe/webhook/", b"{}", content_type="application/json").status_code
    for path in ("/no/such/page", "/another/made-up/path", "/item/999999/", "/item/999998"):
        Client().get(path)
    after = scrape()
    assert value(after, "kassa_webhook_events_total", type="unknown", outcome="invalid") == (
        value(before, "kassa_webhook_events_total", type="unknown", outcome="invalid") + 1
    )
    views = {dict(labels).get("view") for (name, labels) in after if name.startswith("kassa_http")}
    assert "unmatched" in views
    assert "catalog:item" in views  # with its slash or without
    assert not any("item_detail" in str(view) for view in views)
    assert not any("/" in str(view) for view in views)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "ok"),
        (stripe.APIConnectionError("refused"), "unreachable"),
        (stripe.RateLimitError("slow down", http_status=429), "rate_limited"),
        (stripe.APIError("down", http_status=503), "server_error"),
        (stripe.InvalidRequestError("bad", param="x", http_status=400), "rejected"),
        (ValueError("not Stripe's"), "error"),
    ],
)
def test_each_stripe_failure_has_its_outcome(error: Exception | None, outcome: str) -> None:
    assert stripe_outcome(error) == outcome


# --- Who may read it ---------------------------------------------------------------------------


def test_nobody_reads_the_metrics_until_the_owner_says_who(settings: SettingsWrapper) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    unknown = Client().get("/no-such-page")
    response = Client().get("/metrics")
    assert response.status_code == 404
    # The same page as for a path the shop lacks (which names its own path in the page), with
    # the same headers.
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
    assert token.sub(b"", response.content.replace(b"/metrics", b"/no-such-page")) == token.sub(
        b"", unknown.content
    )
    assert response["Content-Security-Policy"] == unknown["Content-Security-Policy"]
    assert b"kassa_" not in response.content


@pytest.mark.parametrize(
    "allowed", [["127.0.0.1"], ["10.0.0.0/8", "127.0.0.0/8"], ["::1", "127.0.0.1/32"]]
)
def test_an_allowed_address_reads_them(settings: SettingsWrapper, allowed: list[str]) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = allowed
    response = Client().get("/metrics/")
    assert response.status_code == 200
    assert "kassa_http_requests" in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_an_ipv4_client_of_a_server_on_ipv6_is_known_by_its_ipv4_address(
    settings: SettingsWrapper,
) -> None:
    settings.METRICS_ALLOWED_IPS = ["192.0.2.0/24"]
    assert Client(REMOTE_ADDR="::ffff:192.0.2.7").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="::ffff:198.51.100.7").get("/metrics").status_code == 404


def test_other_addresses_are_refused_whatever_headers_they_send(settings: SettingsWrapper) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.0.0.1"}).status_code == 404
    assert client.get("/metrics", headers={"X-Real-IP": "10.0.0.1"}).status_code == 404
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200


def test_the_token_opens_them_from_anywhere_and_nothing_else_does(
    settings: SettingsWrapper,
) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    for refused in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, ""):
        assert client.get("/metrics", headers={"Authorization": refused}).status_code == 404
    assert client.get(f"/metrics?token={TOKEN}").status_code == 404
    # Reading only: the same token does not make it writable or anything else.
    assert client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_a_malformed_allowed_address_stops_the_shop_from_starting() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=command_env(
            DJANGO_SETTINGS_MODULE="config.settings", METRICS_ALLOWED_IPS="10.0.0.0/8,not-an-ip"
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "METRICS_ALLOWED_IPS" in result.stderr


def test_a_collector_read_at_scrape_time_is_in_the_exposition(readable: SettingsWrapper) -> None:
    """What another process does (the mail worker) reaches /metrics as a count read when asked,
    e.g. from the database."""
    waiting = [3]

    class Waiting(Collector):
        def collect(self) -> Iterator[GaugeMetricFamily]:
            yield GaugeMetricFamily("kassa_test_waiting", "Waiting, read now.", value=waiting[0])

    collector = read_at_scrape(Waiting())
    try:
        assert value(scrape(), "kassa_test_waiting") == 3
        waiting[0] = 5
        assert value(scrape(), "kassa_test_waiting") == 5
        assert value(
            scrape(), "kassa_http_requests_total", view="metrics", method="GET", status="200"
        )
    finally:
        _read_at_scrape.remove(collector)
