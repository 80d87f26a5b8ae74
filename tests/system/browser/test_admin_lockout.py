"""The admin's lockout in Chromium: after the failed logins the right password is refused on a
page of the admin's own, in English and in Russian, clean by axe-core."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.system.browser.conftest import BrowserRun
from tests.system.browser.test_storefront import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-browser-tests-only"


def try_to_log_in(page: Page, run: BrowserRun, password: str) -> None:
    page.goto(run.url("/admin/login/?next=/admin/"))
    page.locator("#id_username").fill("owner")
    page.locator("#id_password").fill(password)
    page.locator("input[type=submit]").click()


@pytest.mark.parametrize(
    ("language", "heading"), [("en", "Login locked"), ("ru", "Вход заблокирован")]
)
def test_the_right_password_after_the_failures_meets_the_lockout_page(
    browser_run: BrowserRun, settings: SettingsWrapper, language: str, heading: str
) -> None:
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    User.objects.create_superuser("owner", "owner@example.com", PASSWORD)
    page = browser_run.page
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": browser_run.base_url}]
    )
    for _ in range(3):
        try_to_log_in(page, browser_run, "a-wrong-guess")

    try_to_log_in(page, browser_run, PASSWORD)

    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert page.url.endswith("/admin/login/?next=/admin/")
    assert serious_violations(page) == []
    browser_run.screenshot(f"admin-lockout-{language}")
    page.goto(browser_run.url("/admin/"))
    assert page.url.endswith("/admin/login/?next=/admin/")  # not logged in
