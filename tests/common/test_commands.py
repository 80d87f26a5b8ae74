import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from kassa.catalog.models import Item
from kassa.common.money import CURRENCIES
from kassa.orders.models import ShippingRate
from kassa.orders.selectors import currencies_without_shipping_rate
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_an_empty_catalog_with_valid_items_in_several_currencies() -> None:
    call_command("seed_demo")
    items = list(Item.objects.all())
    assert len(items) >= 3
    assert len({item.currency for item in items}) >= 2
    for item in items:
        item.full_clean()
        assert item.currency in CURRENCIES


def test_seed_demo_ships_in_every_currency_of_its_catalog_so_its_goods_can_be_bought() -> None:
    ShippingRate.objects.create(name="Mine", amount=Decimal(3), currency="usd", active=False)

    call_command("seed_demo")

    sent = set(Item.objects.filter(requires_shipping=True).values_list("currency", flat=True))
    assert currencies_without_shipping_rate() == ["usd"]  # the owner's own rate, left alone
    rated = set(ShippingRate.objects.values_list("currency", flat=True))
    assert sent <= rated
    for rate in ShippingRate.objects.exclude(name="Mine"):
        rate.full_clean()
        assert rate.active
        assert rate.amount > 0


def test_seed_demo_never_touches_a_catalog_with_items() -> None:
    ItemFactory.create(name="Mine", shipping_rate=False)
    call_command("seed_demo")
    assert list(Item.objects.values_list("name", flat=True)) == ["Mine"]
    assert not ShippingRate.objects.exists()


def test_ensure_superuser_creates_the_admin_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-test-password")

    call_command("ensure_superuser")
    # A later start with another password in the environment leaves the existing admin alone.
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "another-long-test-password")
    call_command("ensure_superuser")

    admin = User.objects.get()
    assert admin.username == "admin"
    assert admin.is_superuser
    assert admin.check_password("a-long-test-password")


def test_ensure_superuser_without_username_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    call_command("ensure_superuser")
    assert not User.objects.exists()


def test_ensure_superuser_needs_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    with pytest.raises(CommandError):
        call_command("ensure_superuser")
    assert not User.objects.exists()


@pytest.mark.parametrize("weak", ["admin", "12345678", "password123", "short"])
def test_ensure_superuser_refuses_a_weak_password(
    monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", weak)
    with pytest.raises(CommandError, match="too weak"):
        call_command("ensure_superuser")
    assert not User.objects.exists()


def test_management_commands_print_no_axes_banner() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent.parent,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "k"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stdout + result.stderr
