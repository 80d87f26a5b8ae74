"""A customer's account in Chromium, by keyboard alone: signing in with the mailed code, My
orders, and asking for a return; axe-core on every page, in English on a desktop and in Russian
on a phone."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from kassa.customers.returns import return_request_create
from kassa.notifications import messages
from kassa.notifications.models import Mail
from kassa.orders.models import Order
from tests.customers.shop import code_of, paid_order, sign_in_mail
from tests.fake_stripe import FakeStripe
from tests.mail import SMTPServer, smtp
from tests.system.browser.conftest import SCREENSHOT_DIR, BrowserRun, StripeStandIn
from tests.system.browser.test_dashboard import log_in
from tests.system.browser.test_storefront import PHONE, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
__all__ = ["smtp"]

WORDS = {
    "en-US": {
        "send": "Send me a code",
        "sign_in": "Sign in",
        "return": "Return items",
        "ask": "Ask for the return",
        "sent": "Your return request was sent",
        "orders": "My orders",
    },
    "ru-RU": {
        "send": "Прислать код",
        "sign_in": "Войти",
        "return": "Вернуть товары",
        "ask": "Запросить возврат",
        "sent": "Запрос на возврат отправлен",
        "orders": "Мои заказы",
    },
}


@pytest.fixture(params=[("en-US", "desktop"), ("ru-RU", "phone")], ids=["en-desktop", "ru-phone"])
def customer_page(
    request: pytest.FixtureRequest,
    chromium: Browser,
    live_server: LiveServer,
    stripe_stand_in: StripeStandIn,
) -> Iterator[tuple[Page, str, str]]:
    locale, size = request.param
    context = chromium.new_context(
        base_url=live_server.url,
        viewport=PHONE if size == "phone" else {"width": 1280, "height": 800},
        locale=locale,
        extra_http_headers={"Accept-Language": locale},
        has_touch=size == "phone",
    )
    context.set_default_timeout(10_000)
    context.route("**/*", stripe_stand_in._route)
    try:
        yield context.new_page(), locale, f"{locale[:2]}-{size}"
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


def type_and_enter(page: Page, selector: str, text: str) -> None:
    """Into the field the page put the focus on (or Tab to it), then Enter: no mouse."""
    field = page.locator(selector)
    if not field.evaluate("el => el === document.activeElement"):
        field.focus()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_sign_in_my_orders_and_a_return_by_keyboard(
    customer_page: tuple[Page, str, str], fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    page, locale, tag = customer_page
    words = WORDS[locale]
    email = f"ada-{tag}@example.com"
    order = paid_order(fake_stripe, email=email)
    Order.objects.filter(pk=order.pk).update(language=locale[:2])

    page.goto("/account/")  # not signed in: sent to sign in
    expect(page).to_have_url("/account/sign-in/".join([page.url.split("/account/")[0], ""]))
    expect(page.get_by_role("button", name=words["send"])).to_be_visible()
    assert serious_violations(page) == []
    shot(page, f"account-sign-in-{tag}")
    type_and_enter(page, "#sign-in-email", email)

    expect(page.locator("#sign-in-code")).to_be_focused()
    assert serious_violations(page) == []
    shot(page, f"account-code-{tag}")
    message = sign_in_mail(smtp, email)
    type_and_enter(page, "#sign-in-code", code_of(message))
    expect(page.locator("h1")).to_be_visible()
    expect(page.get_by_text(email)).to_be_visible()
    assert serious_violations(page) == []
    shot(page, f"account-{tag}")

    # The code mail as a mail client shows it.
    mail = Mail.objects.filter(kind=Mail.Kind.SIGN_IN).latest("id")
    built = messages.build(
        Mail(
            pk=mail.pk,
            kind=mail.kind,
            language=mail.language,
            created_at=mail.created_at,
            context={
                "to": email,
                "code": "7KQ2MX",
                "minutes": 10,
                "link": "https://shop.example/account/sign-in/link/…/",
            },
        )
    )
    [(html, _type)] = built.alternatives
    mail_page = page.context.new_page()
    mail_page.set_content(str(html))
    shot(mail_page, f"mail-sign-in-code-{tag}")
    mail_page.close()

    page.get_by_role("link", name=words["orders"]).first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f'td a[href="/orders/{order.pk}/"]')).to_be_visible()
    assert serious_violations(page) == []
    shot(page, f"my-orders-{tag}")

    page.goto(f"/orders/{order.pk}/")
    page.get_by_role("link", name=words["return"]).focus()
    page.keyboard.press("Enter")
    mug = order.lines.get(item__name="Mug")
    page.locator(f"#return-{mug.pk}").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("1")
    page.keyboard.press("Tab")  # the plate's quantity
    page.keyboard.press("Tab")  # the reason
    expect(page.locator("#return-reason")).to_be_focused()
    page.keyboard.type("Too small.")
    assert serious_violations(page) == []
    shot(page, f"return-request-{tag}")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=words["ask"])).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text(words["sent"])).to_be_visible()
    expect(page.locator("#return-requests")).to_be_visible()
    assert serious_violations(page) == []
    shot(page, f"return-requested-{tag}")
    request = order.return_requests.get()
    assert [(line.order_line_id, line.quantity) for line in request.lines.all()] == [(mug.pk, 1)]


def test_staff_approve_a_return_in_the_admin(
    browser_run: BrowserRun, fake_stripe: FakeStripe, smtp: SMTPServer
) -> None:
    order = paid_order(fake_stripe, email="ada@example.com")
    mug = order.lines.get(item__name="Mug")
    request = return_request_create(
        order_id=order.pk, quantities={mug.pk: 1}, reason="Too small.", customer=None
    )
    page = browser_run.page
    log_in(page, browser_run)
    page.goto(browser_run.url("/admin/customers/returnrequest/"))
    page.get_by_role("link", name="to decide").first.click()
    expect(page.locator("#result_list")).to_contain_text(str(request))
    browser_run.screenshot("admin-return-requests")
    page.goto(browser_run.url(f"/admin/customers/returnrequest/{request.pk}/change/"))
    expect(page.locator("#content")).to_contain_text("Too small.")
    browser_run.screenshot("admin-return-request")
    page.goto(browser_run.url("/admin/customers/returnrequest/"))
    page.locator("input.action-select").first.check()
    page.locator("select[name=action]").select_option("approve")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("approved")
    request.refresh_from_db()
    assert request.amount_refunded == 1000
    [refund] = fake_stripe.requests_to("POST", "/v1/refunds")
    assert refund.params["amount"] == "1000"
