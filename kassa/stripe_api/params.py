"""The shapes of the requests the shop sends Stripe, as stripe-python types them: the payment
domain builds its requests in these shapes (what to ask), the transport sends them (how)."""

from stripe.params import (
    CouponCreateParams,
    PaymentIntentCreateParams,
    PaymentIntentUpdateParams,
    ShippingRateCreateParams,
    TaxRateCreateParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionCreateParamsLineItemPriceDataProductData,
)

__all__ = [
    "CouponCreateParams",
    "PaymentIntentCreateParams",
    "PaymentIntentUpdateParams",
    "SessionCreateParams",
    "SessionCreateParamsLineItemPriceDataProductData",
    "ShippingRateCreateParams",
    "TaxRateCreateParams",
]
