"""Stripe Coupons, Tax Rates, Shipping Rates and Products for our Discounts, Taxes, shipping
rates and the items a limited discount covers: made once per account and terms."""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from kassa.catalog.models import Item
from kassa.common.money import to_minor
from kassa.orders.models import Discount, ShippingRate, Tax
from kassa.orders.shipping import ShippingOption
from kassa.orders.tax_mode import SHIPPING_TAX_CODE, stripe_computes_tax, tax_behavior
from kassa.payments.models import StripeCoupon, StripeProduct, StripeShippingRate, StripeTaxRate
from kassa.stripe_api import client, price_objects
from kassa.stripe_api.params import (
    CouponCreateParams,
    ProductCreateParams,
    ShippingRateCreateParams,
    TaxRateCreateParams,
)

_Params = CouponCreateParams | TaxRateCreateParams | ShippingRateCreateParams | ProductCreateParams

# The ids made or read so far, kept for the process by (kind, account, owner's id, version):
# a record is never changed, and its version is its exact terms, so an id found once stands for
# them for good, and a checkout need not read it again (a Buy click is the busiest write).
_Known = tuple[str, str, int, str]
_known: dict[_Known, str] = {}
# A bound on what a process keeps, far above a shop's discounts, taxes, rates and products.
_KNOWN_AT_MOST = 20_000


def _remember(key: _Known, stripe_id: str) -> str:
    if len(_known) >= _KNOWN_AT_MOST:
        _known.clear()
    _known[key] = stripe_id
    return stripe_id


def forget_known() -> None:
    """Forget the ids kept (the tests, whose rollbacks remove the records)."""
    _known.clear()


def _version(params: _Params) -> str:
    canonical = json.dumps(params, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def coupon_params(discount: Discount, products: list[str] | None = None) -> CouponCreateParams:
    """The coupon for `discount`'s terms; limited to the Stripe `products` given (those of the
    order's lines it covers), or to every line when None."""
    params: CouponCreateParams = {"name": discount.name[:40], "duration": "once"}
    if products is not None:
        params["applies_to"] = {"products": sorted(products)}
    if discount.is_percent:
        assert discount.percent_off is not None
        params["percent_off"] = float(discount.percent_off)
    else:
        assert discount.amount_off is not None
        params["amount_off"] = to_minor(discount.amount_off, discount.currency)
        params["currency"] = discount.currency
    return params


def tax_rate_params(tax: Tax) -> TaxRateCreateParams:
    return {
        "display_name": tax.name,
        "percentage": float(tax.percentage),
        "inclusive": tax.inclusive,
    }


def shipping_rate_params(option: ShippingOption) -> ShippingRateCreateParams:
    rate = option.rate
    params: ShippingRateCreateParams = {
        "display_name": rate.name,
        "type": "fixed_amount",
        "fixed_amount": {"amount": option.amount, "currency": rate.currency},
        "metadata": {"shipping_rate_id": str(rate.pk)},
    }
    if stripe_computes_tax():
        # Stripe Tax taxes shipping as its own tax code says, with the prices' behaviour.
        params["tax_behavior"] = tax_behavior(rate.currency)
        params["tax_code"] = SHIPPING_TAX_CODE
    if rate.min_days or rate.max_days:
        params["delivery_estimate"] = {}
        if rate.min_days:
            params["delivery_estimate"]["minimum"] = {"unit": "day", "value": rate.min_days}
        if rate.max_days:
            params["delivery_estimate"]["maximum"] = {"unit": "day", "value": rate.max_days}
    return params


def _ensure(
    records: QuerySet[StripeCoupon]
    | QuerySet[StripeTaxRate]
    | QuerySet[StripeShippingRate]
    | QuerySet[StripeProduct],
    *,
    owner: dict[str, Discount | Tax | ShippingRate | Item],
    currency: str,
    params: _Params,
    create: Callable[[str], str],
) -> str:
    """The id of the Stripe object for these terms in `currency`'s account, made at most once.

    `create(idempotency_key)` makes it in Stripe; two checkouts racing to make the same object
    send the same key, so Stripe hands both the same one, and the unique record settles who
    writes it down.
    """
    account = client.ensure_configured(currency).account
    version = _version(params)
    [(kind, obj)] = owner.items()
    key = (kind, account, obj.pk, version)
    if key in _known:
        return _known[key]
    known = records.filter(account=account, version=version, **owner)
    if (record := known.first()) is not None:
        return _remember(key, record.stripe_id)
    stripe_id = create(f"kassa-{kind}-{obj.pk}-{version}-{account[:8]}")
    try:
        with transaction.atomic():
            records.create(account=account, version=version, stripe_id=stripe_id, **owner)
    except IntegrityError:
        return _remember(key, known.get().stripe_id)
    return _remember(key, stripe_id)


def ensure_coupon(*, discount: Discount, currency: str, products: list[str] | None = None) -> str:
    """The Stripe coupon id for `discount`'s current terms in `currency`'s account (limited to
    `products`: one coupon per set of covered products the shop sells together)."""
    params = coupon_params(discount, products)
    return _ensure(
        StripeCoupon.objects.all(),
        owner={"discount": discount},
        currency=currency,
        params=params,
        create=lambda key: price_objects.create_coupon(
            currency=currency, params=params, idempotency_key=key
        ),
    )


def ensure_product(*, item: Item, params: ProductCreateParams, currency: str) -> str:
    """The Stripe product id for `item` as `params` describe it, in `currency`'s account."""
    return _ensure(
        StripeProduct.objects.all(),
        owner={"item": item},
        currency=currency,
        params=params,
        create=lambda key: price_objects.create_product(
            currency=currency, params=params, idempotency_key=key
        ),
    )


def ensure_tax_rate(*, tax: Tax, currency: str) -> str:
    """The Stripe tax rate id for `tax`'s current terms in `currency`'s account."""
    params = tax_rate_params(tax)
    return _ensure(
        StripeTaxRate.objects.all(),
        owner={"tax": tax},
        currency=currency,
        params=params,
        create=lambda key: price_objects.create_tax_rate(
            currency=currency, params=params, idempotency_key=key
        ),
    )


def ensure_shipping_rate(*, option: ShippingOption, currency: str) -> str:
    """The Stripe shipping rate id for `option` (a rate at its price for this order)."""
    params = shipping_rate_params(option)
    return _ensure(
        StripeShippingRate.objects.all(),
        owner={"shipping_rate": option.rate},
        currency=currency,
        params=params,
        create=lambda key: price_objects.create_shipping_rate(
            currency=currency, params=params, idempotency_key=key
        ),
    )


def ensure_shipping_rates(*, options: list[ShippingOption], currency: str) -> list[str]:
    """The Stripe shipping rate ids for `options`, in their order: the ones already made read
    in one query, whatever their number; a missing one made as `ensure_shipping_rate` does."""
    if not options:
        return []
    account = client.ensure_configured(currency).account
    keys = [
        ("shipping_rate", account, option.rate.pk, _version(shipping_rate_params(option)))
        for option in options
    ]
    missing = [key for key in keys if key not in _known]
    if missing:
        records = StripeShippingRate.objects.filter(
            account=account,
            shipping_rate__in=[key[2] for key in missing],
            version__in=[key[3] for key in missing],
        ).values_list("shipping_rate_id", "version", "stripe_id")
        for rate, version, stripe_id in records:
            _remember(("shipping_rate", account, rate, version), stripe_id)
    return [
        _known.get(key) or ensure_shipping_rate(option=option, currency=currency)
        for option, key in zip(options, keys, strict=True)
    ]


def shipping_rate_for(*, stripe_id: str) -> ShippingRate | None:
    """Our rate a Stripe shipping rate was made for, if the shop made it."""
    records = StripeShippingRate.objects.filter(stripe_id=stripe_id).select_related("shipping_rate")
    found = records.first() if stripe_id else None
    return found.shipping_rate if found else None
