from decimal import Decimal

import factory

from kassa.catalog.models import Item
from kassa.orders.models import Discount, Tax


class ItemFactory(factory.django.DjangoModelFactory[Item]):
    class Meta:
        model = Item

    name = factory.Sequence(lambda n: f"Item {n}")
    description = "A fine thing."
    price = Decimal("12.34")
    currency = "usd"


class DiscountFactory(factory.django.DjangoModelFactory[Discount]):
    class Meta:
        model = Discount

    name = factory.Sequence(lambda n: f"Discount {n}")
    kind = Discount.Kind.PERCENT
    percent_off = Decimal("10")


class TaxFactory(factory.django.DjangoModelFactory[Tax]):
    class Meta:
        model = Tax

    name = "VAT"
    percentage = Decimal("20")
    inclusive = False
