import itertools
from decimal import Decimal

import factory
from django.contrib.auth.models import User

from kassa.catalog.models import Item, Product, unique_handle
from kassa.orders.models import Discount, Order, OrderLine, ShippingRate, Tax
from kassa.payments.models import PaymentAttempt


def ensure_shipping_rate(currency: str) -> None:
    """A free rate in `currency` unless the shop has an active one: goods to send in a currency
    with no rate cannot be paid for, and most tests buy goods to send without asking what
    their shipping costs. Tests about shipping make their own rates first."""
    if not ShippingRate.objects.filter(currency=currency, active=True).exists():
        ShippingRate.objects.create(name="Free shipping", amount=Decimal(0), currency=currency)


class ItemFactory(factory.django.DjangoModelFactory[Item]):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Item {n}")
    description = "A fine thing."
    price = Decimal("12.34")
    currency = "usd"

    @factory.post_generation
    def shipping_rate(obj: Item, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """`ItemFactory(shipping_rate=False)`: no rate is made for the item's currency."""
        if create and obj.requires_shipping and extracted is not False:
            ensure_shipping_rate(obj.currency)


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


def product_with_variants(
    name: str = "T-shirt",
    *,
    options: dict[str, list[str]] | None = None,
    price: Decimal = Decimal("20.00"),
    currency: str = "usd",
    stock: int | None = 5,
    skip: set[tuple[str, ...]] | None = None,
    handle: str | None = None,
) -> tuple[Product, list[Item]]:
    """A product with a variant for every combination of `options` (less those in `skip`)."""
    options = options if options is not None else {"Size": ["S", "M"], "Colour": ["Red", "Blue"]}
    names = list(options)
    product = Product.objects.create(
        name=name,
        handle=handle or unique_handle(name),
        **{f"option{n + 1}_name": option for n, option in enumerate(names)},
    )
    items = []
    for position, values in enumerate(itertools.product(*options.values())):
        if skip and values in skip:
            continue
        item = Item(
            product=product,
            name=f"{name} — {' / '.join(values)}",
            price=price,
            currency=currency,
            stock=stock,
            position=position,
            **{f"option{n + 1}": value for n, value in enumerate(values)},
        )
        item.full_clean()
        item.save()
        items.append(item)
    ensure_shipping_rate(currency)
    return product, items


def carts_like_the_bench(
    count: int,
    items: list[Item],
    *,
    user: User,
    code: Discount | None,
    tax: Tax | None,
    first: int = 1,
    prefix: str = "v",
) -> None:
    """Open carts as bench/orders_fixture.py writes them: one to three lines; every other one an
    abandoned checkout, its attempt closed; every third the customer's, every fourth with the
    code and every fifth with the tax."""
    for n in range(first, first + count):
        made = Order.objects.create(
            currency="usd",
            visitor_token=f"{prefix}{n}",
            user=user if n % 3 == 0 else None,
            discount=code if n % 4 == 0 else None,
            tax=tax if n % 5 == 0 else None,
        )
        OrderLine.objects.bulk_create(
            OrderLine(order=made, item=item, quantity=1 + (n + j) % 2, unit_price=item.price)
            for j, item in enumerate(items[: 1 + n % 3])
        )
        if n % 2:
            PaymentAttempt.objects.create(
                order=made,
                number=1,
                kind="checkout_session",
                stripe_id=f"cs_bench_{prefix}{n}",
                payment_intent_id=f"pi_bench_{prefix}{n}",
                state="closed",
                currency="usd",
            )
