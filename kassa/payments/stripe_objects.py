"""Stripe Coupons and Tax Rates for our Discounts and Taxes: made once per account and terms."""

import hashlib
import json

from django.db import IntegrityError, transaction
from stripe.params import CouponCreateParams, TaxRateCreateParams

from kassa.common.money import to_minor
from kassa.orders.models import Discount, Tax
from kassa.payments import gateway
from kassa.payments.models import StripeCoupon, StripeTaxRate


def _version(params: CouponCreateParams | TaxRateCreateParams) -> str:
    canonical = json.dumps(params, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def coupon_params(discount: Discount) -> CouponCreateParams:
    params: CouponCreateParams = {"name": discount.name[:40], "duration": "once"}
    if discount.kind == Discount.Kind.PERCENT:
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


def ensure_coupon(*, discount: Discount, currency: str) -> str:
    """The Stripe coupon id for `discount`'s current terms in `currency`'s account."""
    account = gateway.ensure_configured(currency).account
    params = coupon_params(discount)
    version = _version(params)
    known = StripeCoupon.objects.filter(discount=discount, account=account, version=version)
    if (record := known.first()) is not None:
        return record.stripe_id
    stripe_id = gateway.create_coupon(
        currency=currency,
        params=params,
        # Two checkouts racing to make the same coupon get the same one back from Stripe.
        idempotency_key=f"kassa-coupon-{discount.pk}-{version}-{account[:8]}",
    )
    try:
        with transaction.atomic():
            StripeCoupon.objects.create(
                discount=discount, account=account, version=version, stripe_id=stripe_id
            )
    except IntegrityError:
        return known.get().stripe_id
    return stripe_id


def ensure_tax_rate(*, tax: Tax, currency: str) -> str:
    """The Stripe tax rate id for `tax`'s current terms in `currency`'s account."""
    account = gateway.ensure_configured(currency).account
    params = tax_rate_params(tax)
    version = _version(params)
    known = StripeTaxRate.objects.filter(tax=tax, account=account, version=version)
    if (record := known.first()) is not None:
        return record.stripe_id
    stripe_id = gateway.create_tax_rate(
        currency=currency,
        params=params,
        idempotency_key=f"kassa-taxrate-{tax.pk}-{version}-{account[:8]}",
    )
    try:
        with transaction.atomic():
            StripeTaxRate.objects.create(
                tax=tax, account=account, version=version, stripe_id=stripe_id
            )
    except IntegrityError:
        return known.get().stripe_id
    return stripe_id
