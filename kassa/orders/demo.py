"""The shipping rates the demo catalog is sold with: without one, goods to send cannot be paid
for (kassa.orders.checkout_defaults), and a fresh `make run` should sell its demo at once."""

from decimal import Decimal

from kassa.orders.models import ShippingRate

# currency -> (price, free from): a post rate per currency of the demo catalog.
DEMO_RATES = {
    "usd": (Decimal("4.90"), Decimal("50.00")),
    "eur": (Decimal("4.50"), Decimal("50.00")),
    "jpy": (Decimal("600"), Decimal("5000")),
}


def add_demo_shipping_rates(*, currencies: set[str], **kwargs: object) -> None:
    """A "Standard post" rate in each of `currencies` the shop has no rate in (a receiver of
    kassa.catalog.signals.demo_catalog_loaded, in seed_demo's transaction)."""
    rated = set(ShippingRate.objects.values_list("currency", flat=True))
    for currency in sorted(currencies - rated):
        if currency not in DEMO_RATES:
            continue
        amount, free_from = DEMO_RATES[currency]
        rate = ShippingRate(
            name="Standard post",
            amount=amount,
            currency=currency,
            min_days=2,
            max_days=5,
            free_from=free_from,
        )
        rate.full_clean()
        rate.save()
