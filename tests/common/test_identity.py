"""The shop's identity: the environment's values, overridden by the owner's Shop settings, in
the storefront's header, titles and footer, in mail and in the admin's header."""

import subprocess
import sys
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.common.identity import SETTINGS_ID, identity
from kassa.common.models import ShopSettings
from kassa.notifications.messages import build
from kassa.notifications.models import Mail
from kassa.orders.models import Order
from kassa.storefront.middleware import ShopLocaleMiddleware
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def named(settings: SettingsWrapper) -> SettingsWrapper:
    settings.SHOP_NAME = "Soap & Co"
    settings.SHOP_CONTACT_EMAIL = "hello@soap.example"
    settings.SHOP_CONTACT_ADDRESS = "1 Lather Lane\nBubbleton"
    settings.SHOP_FOOTER_TEXT = "Handmade since 1999."
    settings.DEFAULT_FROM_EMAIL = "Kassa <orders@soap.example>"
    return settings


def test_the_environments_name_is_in_header_title_and_footer(named: SettingsWrapper) -> None:
    item = ItemFactory.create(name="Lavender bar")
    client = Client()
    for path in ("/", f"/item/{item.pk}", "/orders/", "/nowhere/"):
        html = client.get(path).text
        assert '<a class="brand" href="/">Soap &amp; Co</a>' in html, path
        assert "· Soap &amp; Co</title>" in html, path
        assert "Handmade since 1999." in html, path
        assert "1 Lather Lane<br>Bubbleton" in html, path
        assert "mailto:hello@soap.example" in html, path
        assert "Kassa" not in html, path


def test_the_owners_shop_settings_override_the_environment(named: SettingsWrapper) -> None:
    client = Client()
    assert "Soap &amp; Co" in client.get("/").text  # the shared copy, under the old name
    ShopSettings.objects.create(pk=SETTINGS_ID, name="Lather Ltd", footer_text="")

    html = client.get("/").text

    assert '<a class="brand" href="/">Lather Ltd</a>' in html
    assert "Soap &amp; Co" not in html
    assert "Handmade since 1999." in html  # a blank field keeps the environment's value


def test_mail_is_from_and_signed_by_the_shop(named: SettingsWrapper) -> None:
    item = ItemFactory.create(price=Decimal("3.00"))
    order = Order.objects.create(currency="usd", email="ann@example.com", status=Order.Status.PAID)
    order.lines.create(item=item, quantity=1, unit_price=item.price)
    mail = Mail.objects.create(kind=Mail.Kind.CONFIRMATION, order=order, key="c", language="en")

    message = build(mail)

    assert message.from_email == "Soap & Co <orders@soap.example>"
    assert message.body.rstrip().endswith("Soap & Co\nhello@soap.example\n1 Lather Lane\nBubbleton")
    html = message.alternatives[0][0]
    assert "Soap &amp; Co" in str(html)
    assert "Kassa" not in str(html)


def test_the_admin_header_and_title_carry_the_name(named: SettingsWrapper) -> None:
    User.objects.create_superuser("owner", "owner@example.com", "pw-owner-1")
    client = Client()
    client.login(username="owner", password="pw-owner-1")

    html = client.get("/admin/").text

    assert "Soap &amp; Co administration" in html
    assert "| Soap &amp; Co</title>" in html
    assert "Django administration" not in html


def test_the_owner_edits_shop_settings_in_the_admin(named: SettingsWrapper) -> None:
    User.objects.create_superuser("owner", "owner@example.com", "pw-owner-1")
    client = Client()
    client.login(username="owner", password="pw-owner-1")

    listed = client.get("/admin/common/shopsettings/")
    assert listed.status_code == 302
    page = client.get(listed["Location"])
    assert page.status_code == 200
    saved = client.post(
        listed["Location"],
        {
            "name": "Bubbles",
            "contact_email": "",
            "contact_address": "",
            "footer_text": "",
            "time_zone": "Europe/Berlin",
            "languages": ["ru"],
        },
    )

    assert saved.status_code == 302
    shop = identity()
    assert shop.name == "Bubbles"
    assert shop.time_zone == "Europe/Berlin"
    assert shop.languages == ("ru",)


def test_time_zone_and_languages_follow_the_owner(named: SettingsWrapper) -> None:
    ShopSettings.objects.create(pk=SETTINGS_ID, time_zone="Asia/Tokyo", languages="ru")
    client = Client(headers={"Accept-Language": "en"})

    response = client.get("/")

    assert response["Content-Language"] == "ru"
    assert 'class="languages"' not in response.text  # one language: nothing to switch
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    ShopLocaleMiddleware(view)(RequestFactory().get("/"))
    assert seen == ["Asia/Tokyo"]


def test_time_zone_comes_from_the_environment() -> None:
    code = "import config.settings as s; print(s.TIME_ZONE)"
    env = {"DJANGO_SECRET_KEY": "k", "PATH": "/usr/bin:/bin", "TIME_ZONE": "America/Chicago"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "America/Chicago"


def test_the_dashboards_days_are_the_owners_time_zone() -> None:
    ShopSettings.objects.create(pk=SETTINGS_ID, time_zone="Asia/Tokyo")
    User.objects.create_superuser("owner", "owner@example.com", "pw-owner-1")
    client = Client()
    client.login(username="owner", password="pw-owner-1")

    assert "Days run midnight to midnight in Asia/Tokyo" in client.get("/admin/").text
