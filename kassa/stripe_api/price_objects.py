"""The objects Checkout prices a session with, made at Stripe: coupons, tax rates, shipping rates
and the products a coupon limited to some lines names. Each returns the new object's id; the
payment domain keeps them (kassa.payments.stripe_objects) so each is made once per account and
version of its terms."""

from stripe.params import (
    CouponCreateParams,
    ProductCreateParams,
    ShippingRateCreateParams,
    TaxRateCreateParams,
)

from kassa.stripe_api.client import client_for, create, keyed


def create_coupon(*, currency: str, params: CouponCreateParams, idempotency_key: str) -> str:
    client = client_for(currency)
    coupon = create(
        "Coupon.create",
        lambda: client.v1.coupons.create(params=params, options=keyed(idempotency_key)),
    )
    return str(coupon["id"])


def create_shipping_rate(
    *, currency: str, params: ShippingRateCreateParams, idempotency_key: str
) -> str:
    client = client_for(currency)
    rate = create(
        "ShippingRate.create",
        lambda: client.v1.shipping_rates.create(params=params, options=keyed(idempotency_key)),
    )
    return str(rate["id"])


def create_tax_rate(*, currency: str, params: TaxRateCreateParams, idempotency_key: str) -> str:
    client = client_for(currency)
    tax_rate = create(
        "TaxRate.create",
        lambda: client.v1.tax_rates.create(params=params, options=keyed(idempotency_key)),
    )
    return str(tax_rate["id"])


def create_product(*, currency: str, params: ProductCreateParams, idempotency_key: str) -> str:
    client = client_for(currency)
    product = create(
        "Product.create",
        lambda: client.v1.products.create(params=params, options=keyed(idempotency_key)),
    )
    return str(product["id"])
