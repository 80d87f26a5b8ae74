"""The default taxes and the active shipping rates, as every new order and checkout reads them:
kept per process under the catalog's revision (kassa.catalog.revision), which saving or deleting
a Tax or a ShippingRate changes, in the same transaction.

A Buy click would otherwise ask the database for both on every click, two queries (and about
2 ms of the server's CPU, make bench) for rows staff change a few times a year. Read once per
revision instead, an edit reaches new orders and checkouts within CATALOG_PAGE_REFRESH_SECONDS,
on every replica. What a customer is charged stays frozen on their order and attempt.

Callers get copies: the kept instances are shared by the process's threads and never handed out.
"""

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from kassa.catalog import revision
from kassa.orders.errors import NoShippingRate
from kassa.orders.models import Order, OrderLine, ShippingRate, Tax
from kassa.orders.shipping import MAX_OPTIONS, ShippingOption, needs_shipping, option_amount


@dataclass(frozen=True)
class _Terms:
    taxes: MappingProxyType[str, Tax]  # by currency; "" is the tax of every currency
    rates: MappingProxyType[str, tuple[ShippingRate, ...]]  # active, by currency


def default_tax(currency: str) -> Tax | None:
    """The tax that applies to every new order in `currency`: its own, else one for every
    currency (a blank currency), else none."""
    taxes = _terms().taxes
    tax = taxes.get(currency) or taxes.get("")
    return copy.copy(tax) if tax is not None else None


def options_for(*, currency: str, goods_total: int) -> list[ShippingOption]:
    """The active rates in `currency` at their price for an order whose goods come to
    `goods_total` minor units, cheapest first, as many as Checkout shows."""
    options = [
        ShippingOption(rate=copy.copy(rate), amount=option_amount(rate, goods_total=goods_total))
        for rate in _terms().rates.get(currency, ())
    ]
    return sorted(options, key=lambda option: (option.amount, option.rate.pk))[:MAX_OPTIONS]


def offered(
    *, order: Order, lines: list[OrderLine], goods: int, free_shipping: bool = False
) -> list[ShippingOption]:
    """The shipping choices `order` of `lines` is offered, its goods coming to `goods` minor
    units: none if nothing is sent. Goods to send in a currency with no rate are refused before
    a payment begins (check_shipping_rate), so they are never sent free unless a rate says so.
    With a free-shipping discount, every choice costs nothing."""
    if not needs_shipping(lines):
        return []
    options = options_for(currency=order.currency, goods_total=goods)
    if not order.is_editable:
        # Frozen with its payment: the discounts it began with (kassa.orders.pricing).
        free_shipping = free_shipping or any(
            d is not None and d.is_free_shipping for d in (order.discount, order.promotion)
        )
    if free_shipping:
        options = [ShippingOption(rate=option.rate, amount=0) for option in options]
    return options


def has_rate(currency: str) -> bool:
    """Whether the shop offers an active shipping rate in `currency`."""
    return bool(_terms().rates.get(currency))


def no_rate_message(currency: str) -> str:
    return _(
        "This shop does not ship orders in %(currency)s yet, so they cannot be paid for: "
        "no shipping rate is set up for them. Please contact the shop, or choose items "
        "that need no shipping."
    ) % {"currency": currency.upper()}


def no_rate_problem(*, currency: str, lines: Iterable[OrderLine]) -> str:
    """What to tell a customer whose goods to send are in a currency the shop has no active
    shipping rate in; "" when nothing is sent or a rate is there."""
    if not needs_shipping(lines) or has_rate(currency):
        return ""
    return no_rate_message(currency)


def check_shipping_rate(*, currency: str, lines: Iterable[OrderLine]) -> None:
    """Raise NoShippingRate for goods to send in a currency with no rate: charging no shipping
    is a choice staff make with a free rate, never one made by leaving a rate out."""
    message = no_rate_problem(currency=currency, lines=lines)
    if message:
        raise NoShippingRate(message)


def _load() -> _Terms:
    taxes: dict[str, Tax] = {}
    for tax in Tax.objects.filter(applies_to_every_order=True).order_by("id"):
        taxes.setdefault(tax.currency, tax)  # one per currency (a constraint); the oldest
    rates: dict[str, list[ShippingRate]] = {}
    for rate in ShippingRate.objects.filter(active=True).order_by("amount", "id"):
        rates.setdefault(rate.currency, []).append(rate)
    return _Terms(
        taxes=MappingProxyType(taxes),
        rates=MappingProxyType({currency: tuple(kept) for currency, kept in rates.items()}),
    )


# What every order reads, kept per process under the catalog revision.
_terms = revision.KeptPerRevision(_load)


def _changed(sender: type, **kwargs: object) -> None:
    revision.bump()


def connect() -> None:
    for model in (Tax, ShippingRate):
        name = model._meta.model_name
        post_save.connect(_changed, sender=model, dispatch_uid=f"terms-revision-save-{name}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"terms-revision-delete-{name}")
