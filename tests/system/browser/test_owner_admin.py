"""The owner's admin in Chromium at 1280 px: staff see the shop without its developer internals,
every list they see fits the screen, and a refund of one unit of two restocks one."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.orders.models import Order
from kassa.payments.models import Refund
from tests.factories import ItemFactory
from tests.fake_stripe import FakeStripe
from tests.stripe_events import WEBHOOK_SECRET, event, post_event
from tests.system.browser.conftest import BrowserRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pw-for-browser-tests"
INTERNALS = ["Payment attempts", "Webhook events", "Stripe coupons", "Task results", "Access logs"]


def log_in_as(page: Page, run: BrowserRun, group: str) -> None:
    call_command("ensure_groups", verbosity=0)
    user = User.objects.create_user(group.lower(), "", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(run.url("/admin/login/?next=/admin/"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def overflow(page: Page) -> int:
    """How far the list's table reaches past its box, in pixels (0: it fits)."""
    return int(
        page.evaluate(
            "(() => { const r = document.querySelector('#changelist .results');"
            " return r ? r.scrollWidth - r.clientWidth : 0 })()"
        )
    )


@pytest.mark.parametrize("group", ["Staff", "Owner"])
def test_staff_and_owner_see_the_shop_without_internals_and_lists_fit(
    browser_run: BrowserRun, group: str
) -> None:
    page = browser_run.page
    log_in_as(page, browser_run, group)
    expect(page.get_by_role("link", name="Orders").first).to_be_visible()
    for name in INTERNALS:
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    lists = page.eval_on_selector_all(
        "#content-main a[href^='/admin/'][href$='/']", "links => links.map(a => a.pathname)"
    )
    lists = sorted({path for path in lists if path.count("/") == 4})
    assert "/admin/orders/order/" in lists
    for path in lists:
        page.goto(browser_run.url(path))
        assert overflow(page) <= 0, path
    browser_run.screenshot(f"admin-index-{group.lower()}")


def test_staff_refund_one_unit_of_two_and_one_goes_back_on_sale(
    browser_run: BrowserRun, fake_stripe: FakeStripe, settings: SettingsWrapper
) -> None:
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    soap = ItemFactory.create(name="Lavender soap", price=Decimal("6.00"), stock=5)
    body = Client().get(f"/buy/{soap.pk}?quantity=2", headers={"Accept": "application/json"})
    session = fake_stripe.resources.complete_checkout_session(body.json()["id"])
    assert post_event(event("checkout.session.completed", session)).status_code == 200
    order = Order.objects.get(pk=body.json()["order_id"])
    page = browser_run.page
    log_in_as(page, browser_run, "Staff")

    page.goto(browser_run.url(f"/admin/orders/order/{order.pk}/change/"))
    expect(page.get_by_text("Paid $12.00.")).to_be_visible()
    page.get_by_role("link", name="Refund…").click()
    page.get_by_label("Lavender soap: units returned").fill("1")
    page.get_by_label("Yes, refund these orders to their customers").check()
    browser_run.screenshot("admin-refund-form")
    page.get_by_role("button", name="Refund in Stripe").click()

    expect(page.get_by_text(f"Order #{order.pk} refunded")).to_be_visible()
    expect(page.get_by_text("Refunded $6.00.")).to_be_visible()
    expect(page.get_by_text("To ship: 1 × Lavender soap.")).to_be_visible()
    browser_run.screenshot("admin-order-after-refund")
    soap.refresh_from_db()
    assert soap.stock == 4  # five, two sold, one back
    [refund] = Refund.objects.filter(order=order)
    assert (refund.amount, refund.state) == (600, Refund.State.SUCCEEDED)
