"""Exact money: currencies we sell in, their exponents, and the one conversion to Stripe's units.

Amounts live as `Decimal` in major units (12.34 USD). Stripe wants integers in the currency's
minor unit; `to_minor` / `from_minor` are the only places that cross that line.
"""

from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import format_currency
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

# Stripe's zero-decimal currencies: amounts are sent as whole units (1500 JPY -> 1500).
ZERO_DECIMAL = frozenset("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
# Stripe's three-decimal currencies: amounts are sent in thousandths, which must end in 0.
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())
# Two-decimal currencies we accept. ISK, HUF and TWD are left out on purpose: Stripe treats
# them specially (two-decimal API amounts that must be whole units) and the shop does not
# need them yet.
TWO_DECIMAL = frozenset(
    "usd eur gbp rub chf cad aud nzd sek nok dkk pln czk ron bgn try uah kzt gel amd azn "
    "inr cny hkd sgd thb myr idr php brl mxn ars cop pen zar ils aed sar qar egp".split()
)

CURRENCIES = ZERO_DECIMAL | THREE_DECIMAL | TWO_DECIMAL
CURRENCY_CHOICES = sorted((code, code.upper()) for code in CURRENCIES)

# Stripe's largest amount for a single charge, in minor units (eight digits).
MAX_MINOR_AMOUNT = 99_999_999

# Stripe's smallest charge per currency, in minor units (stripe.com/docs/currencies, "Minimum
# and maximum charge amounts"); Stripe refuses a payment for less. A currency not listed has
# a minimum worth about 0.50 USD, which depends on the day's rate: Stripe checks it then.
MIN_CHARGE: dict[str, int] = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}


def minimum_charge(currency: str) -> int | None:
    """Stripe's smallest charge in `currency` (minor units), if the shop knows it."""
    return MIN_CHARGE.get(currency.lower())


class MoneyError(ValueError):
    """An amount that cannot be charged in its currency."""


def exponent(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    if code in TWO_DECIMAL:
        return 2
    raise MoneyError(f"Unknown currency {currency!r}.")


def price_decimals(currency: str) -> int:
    """Decimals a price may have: Stripe wants three-decimal amounts to end in 0, so two."""
    return 2 if currency.lower() in THREE_DECIMAL else exponent(currency)


def validate_amount(amount: Decimal, currency: str) -> None:
    """Raise MoneyError unless `amount` is positive and chargeable exactly in `currency`."""
    if amount <= 0:
        raise MoneyError(_("The amount must be greater than zero."))
    decimals = price_decimals(currency)
    if amount % Decimal(1).scaleb(-decimals) != 0:
        raise MoneyError(
            _("%(currency)s amounts can have at most %(decimals)s decimals.")
            % {"currency": currency.upper(), "decimals": decimals}
        )
    if to_minor(amount, currency) > MAX_MINOR_AMOUNT:
        raise MoneyError(_("The amount is larger than Stripe can charge at once."))


def to_minor(amount: Decimal, currency: str) -> int:
    """Major units to Stripe's integer minor units; refuses to silently drop fractions."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency.upper()} allows.")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's exponent (for display of computed amounts)."""
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def format_amount(amount: Decimal, currency: str, language: str | None = None) -> str:
    """The amount as a customer reading `language` (default: the active one) expects it:
    '$12.34' in English, '12,34 €' in Russian, '¥1,500', with the currency's own decimals."""
    locale = Locale.parse(to_locale(language or get_language() or "en"))
    # CLDR's digits per currency agree with Stripe's exponents for every currency we accept
    # (a test holds them to it), so Babel shows exactly the decimals that are charged.
    return format_currency(quantize(amount, currency), currency.upper(), locale=locale)
