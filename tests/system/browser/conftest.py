"""Browser fixtures: Debian's Chromium driven by Playwright against the live server.

Stripe's own hosts cannot be reached from these machines, so js.stripe.com and
checkout.stripe.com are answered by stand-ins served with `context.route`; every other request
that is not for the live server is aborted (and recorded, so a test notices it).
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The JSON endpoints that start a checkout for one item (see DESIGN.md, "JSON").
BUY_PATH = re.compile(r"/(buy/[^/]+|item/[^/]+/buy)/?")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
STRIPE_JS_HOST = "js.stripe.com"
CHECKOUT_HOST = "checkout.stripe.com"
STRIPE_JS_V3_URL = "https://js.stripe.com/v3/"
SCREENSHOT_DIR = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"

# Stripe.js v3 as the page uses it: Stripe(key).redirectToCheckout({sessionId}) sends the browser
# to Checkout and its promise only settles when the redirect fails. Each call is recorded
# through an exposed binding (awaited before navigating, so the record cannot be lost).
STRIPE_JS_WITH_REDIRECT = """
(function () {
  "use strict";
  window.Stripe = function Stripe(key) {
    window.kassaStandInRecord("Stripe", { key: key });
    return {
      redirectToCheckout: async function (options) {
        await window.kassaStandInRecord("redirectToCheckout", options);
        window.location.assign(
          "https://checkout.stripe.com/c/pay/" + encodeURIComponent(options.sessionId)
        );
        return new Promise(function () {});
      },
    };
  };
})();
"""

# Stripe.js without redirectToCheckout, as the 2025 (clover) versions are.
STRIPE_JS_WITHOUT_REDIRECT = """
(function () {
  "use strict";
  window.Stripe = function Stripe(key) {
    window.kassaStandInRecord("Stripe", { key: key });
    return {
      elements: function () { return {}; },
      initCheckout: function () { return Promise.resolve({}); },
      confirmPayment: function () { return Promise.resolve({}); },
    };
  };
})();
"""

CHECKOUT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stripe Checkout (stand-in)</title></head>
<body><h1 id="stand-in-checkout">Stripe Checkout stand-in</h1></body></html>
"""


@dataclass
class StripeStandIn:
    """What the browser asked of Stripe's hosts (and of anything else outside), per test."""

    stripe_js: str = STRIPE_JS_WITH_REDIRECT
    stripe_js_requests: list[str] = field(default_factory=list)
    checkout_requests: list[str] = field(default_factory=list)
    # ("Stripe", {"key": ...}) and ("redirectToCheckout", {...options...}), in call order.
    calls: list[tuple[str, Any]] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def calls_to(self, name: str) -> list[Any]:
        return [payload for called, payload in self.calls if called == name]

    def _record(self, name: str, payload: Any) -> None:
        self.calls.append((name, payload))

    def _route(self, route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
        elif host == STRIPE_JS_HOST:
            self.stripe_js_requests.append(url)
            route.fulfill(status=200, content_type="text/javascript", body=self.stripe_js)
        elif host == CHECKOUT_HOST:
            self.checkout_requests.append(url)
            route.fulfill(status=200, content_type="text/html", body=CHECKOUT_PAGE)
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")


@dataclass
class BrowserRun:
    """One test's page, plus what it sent where and which script errors it raised."""

    page: Page
    stripe: StripeStandIn
    base_url: str
    page_errors: list[str]
    buy_requests: list[str]  # paths of the requests that start a checkout, in order

    def url(self, path: str) -> str:
        return self.base_url + path

    def screenshot(self, name: str) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


# Package scope, not session: the browser starts once for all the tests in tests/system/browser
# and is gone before the rest of the suite runs. That matters because Playwright's sync API keeps
# its asyncio loop marked as running in this thread between calls, so Django sees "an async
# context" and refuses ORM calls (SynchronousOnlyOperation). Nothing here is async, so the check is
# switched off (Playwright's documented advice for Django) only for as long as the driver lives.
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            yield driver
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, started once. Missing Chromium fails the tests; it never skips them."""
    executable = os.environ.get("KASSA_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        pytest.fail(
            f"Chromium is not installed at {executable!r}. The browser tests need Debian's "
            "Chromium (apt-get install chromium) or KASSA_CHROMIUM pointing at a Chromium binary.",
            pytrace=False,
        )
    try:
        browser = playwright_driver.chromium.launch(
            executable_path=executable,
            args=CHROMIUM_ARGS,
            # Playwright turns the back/forward cache off; customers' browsers have it on, and
            # Back from Stripe Checkout restores the item page from it.
            ignore_default_args=["--disable-back-forward-cache"],
        )
    except PlaywrightError as exc:
        pytest.fail(f"Chromium at {executable!r} would not start: {exc.message}", pytrace=False)
    yield browser
    browser.close()


@pytest.fixture
def stripe_stand_in(settings: SettingsWrapper) -> StripeStandIn:
    # Pinned so a developer's STRIPE_JS_URL cannot send the page somewhere the routes miss.
    settings.STRIPE_JS_URL = STRIPE_JS_V3_URL
    return StripeStandIn()


@pytest.fixture
def browser_context(
    chromium: Browser, live_server: LiveServer, stripe_stand_in: StripeStandIn
) -> Iterator[BrowserContext]:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, locale="en-US"
    )
    context.set_default_timeout(10_000)
    context.expose_function("kassaStandInRecord", stripe_stand_in._record)
    context.route("**/*", stripe_stand_in._route)
    yield context
    context.close()
    assert stripe_stand_in.blocked == [], "the page tried to reach hosts outside the test"


@pytest.fixture
def browser_run(
    browser_context: BrowserContext, live_server: LiveServer, stripe_stand_in: StripeStandIn
) -> BrowserRun:
    page = browser_context.new_page()
    page_errors: list[str] = []
    buy_requests: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    def note_buy(request: Request) -> None:
        if BUY_PATH.fullmatch(urlsplit(request.url).path):
            buy_requests.append(urlsplit(request.url).path)

    page.on("request", note_buy)
    return BrowserRun(
        page=page,
        stripe=stripe_stand_in,
        base_url=live_server.url,
        page_errors=page_errors,
        buy_requests=buy_requests,
    )
