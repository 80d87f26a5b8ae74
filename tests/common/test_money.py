from decimal import Decimal

import pytest
from babel.numbers import get_currency_precision
from hypothesis import given
from hypothesis import strategies as st

from kassa.common import money


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "usd", 1234),
        ("0.01", "eur", 1),
        ("1500", "jpy", 1500),
        ("1500", "krw", 1500),
        ("1.25", "kwd", 1250),
        ("10", "bhd", 10000),
    ],
)
def test_to_minor_uses_the_currency_exponent(amount: str, currency: str, minor: int) -> None:
    assert money.to_minor(Decimal(amount), currency) == minor
    assert money.from_minor(minor, currency) == Decimal(amount)


def test_to_minor_refuses_to_drop_fractions() -> None:
    with pytest.raises(money.MoneyError):
        money.to_minor(Decimal("12.345"), "usd")
    with pytest.raises(money.MoneyError):
        money.to_minor(Decimal("1500.5"), "jpy")


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0", "usd"), ("-1", "usd"), ("1.001", "usd"), ("1.5", "jpy"), ("1.235", "kwd")],
)
def test_validate_amount_rejects_what_stripe_cannot_charge(amount: str, currency: str) -> None:
    with pytest.raises(money.MoneyError):
        money.validate_amount(Decimal(amount), currency)


def test_validate_amount_rejects_more_than_stripe_charges_at_once() -> None:
    money.validate_amount(Decimal("999999.99"), "usd")
    with pytest.raises(money.MoneyError):
        money.validate_amount(Decimal("1000000.00"), "usd")


def test_unknown_currency_is_an_error() -> None:
    with pytest.raises(money.MoneyError):
        money.exponent("xxx")


@pytest.mark.parametrize(
    ("amount", "currency", "language", "shown"),
    [
        ("12.3", "usd", "en", "$12.30"),
        ("12.34", "eur", "ru", "12,34\xa0€"),
        ("1500", "rub", "ru", "1\xa0500,00\xa0₽"),
        ("1500.000", "jpy", "en", "¥1,500"),
        ("1.25", "kwd", "en", "KWD1.250"),
        ("1500", "jpy", "ru", "1\xa0500\xa0¥"),
    ],
)
def test_format_amount_follows_locale_and_currency_decimals(
    amount: str, currency: str, language: str, shown: str
) -> None:
    assert money.format_amount(Decimal(amount), currency, language) == shown


def test_every_currency_is_shown_with_the_decimals_stripe_charges() -> None:
    for currency in money.CURRENCIES:
        assert get_currency_precision(currency.upper()) == money.exponent(currency), currency


@given(
    minor=st.integers(min_value=1, max_value=money.MAX_MINOR_AMOUNT),
    currency=st.sampled_from(sorted(money.CURRENCIES)),
)
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    assert money.to_minor(money.from_minor(minor, currency), currency) == minor
