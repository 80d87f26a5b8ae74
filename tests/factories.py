from decimal import Decimal

import factory

from kassa.catalog.models import Item


class ItemFactory(factory.django.DjangoModelFactory[Item]):
    class Meta:
        model = Item

    name = factory.Sequence(lambda n: f"Item {n}")
    description = "A fine thing."
    price = Decimal("12.34")
    currency = "usd"
