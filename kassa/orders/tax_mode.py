"""Who works out tax (SHOP_TAX): staff's rates attached to orders ("manual"), or Stripe Tax
("stripe"), which computes it per line and for shipping from the buyer's address."""

from django.conf import settings

from kassa.catalog.models import Item

# Stripe's tax code for shipping charges.
SHIPPING_TAX_CODE = "txcd_92010001"


def stripe_computes_tax() -> bool:
    return settings.SHOP_TAX == "stripe"


def prices_include_tax(currency: str) -> bool:
    """Whether prices in `currency` already contain tax (SHOP_PRICES_INCLUDE_TAX)."""
    return currency.lower() in settings.SHOP_PRICES_INCLUDE_TAX


def tax_behavior(currency: str) -> str:
    """Stripe's name for it: "inclusive" or "exclusive"."""
    return "inclusive" if prices_include_tax(currency) else "exclusive"


def tax_code(item: Item) -> str:
    """The item's Stripe product tax code, or the shop's default."""
    return item.tax_code or settings.SHOP_DEFAULT_TAX_CODE
