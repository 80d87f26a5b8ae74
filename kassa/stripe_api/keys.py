"""Which Stripe account a currency is paid into: one keypair per currency, with a default."""

import hashlib
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Keypair:
    secret: str
    publishable: str

    @property
    def account(self) -> str:
        """A stable name for the account behind the secret key, safe to store (a one-way hash)."""
        return hashlib.sha256(self.secret.encode()).hexdigest()[:32]

    def __repr__(self) -> str:
        # Never let a secret key reach a log line or a traceback's locals.
        return f"Keypair(publishable={self.publishable!r}, secret=<hidden>)"


def keypair_for(currency: str) -> Keypair | None:
    """The keypair for `currency`, or None when payments in it are not configured."""
    own = settings.STRIPE_KEYS_BY_CURRENCY.get(currency.lower(), {})
    if own.get("secret"):
        # A currency's own account: never mix its secret with another account's publishable key.
        secret, publishable = own["secret"], own.get("publishable", "")
    else:
        secret, publishable = settings.STRIPE_API_KEY, settings.STRIPE_PUBLISHABLE_KEY
    if not secret:
        return None
    return Keypair(secret=secret, publishable=publishable)


def can_pay_in(currency: str) -> bool:
    """Whether payments in `currency` are set up."""
    return keypair_for(currency) is not None


def any_payable_account() -> bool:
    """Whether any configured account has both keys (a page can pay in some currency)."""
    accounts = [
        {"secret": settings.STRIPE_API_KEY, "publishable": settings.STRIPE_PUBLISHABLE_KEY},
        *settings.STRIPE_KEYS_BY_CURRENCY.values(),
    ]
    return any(account.get("secret") and account.get("publishable") for account in accounts)
