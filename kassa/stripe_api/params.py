"""The shapes of the requests the shop sends Stripe, as stripe-python types them: the payment
domain builds its requests in these shapes (what to ask), the transport sends them (how). The
shop's own values become Stripe's here, as Stripe's become ours in kassa.stripe_api.results."""

from stripe.params import (
    CouponCreateParams,
    PaymentIntentCreateParams,
    PaymentIntentUpdateParams,
    PaymentIntentUpdateParamsShipping,
    PaymentIntentUpdateParamsShippingAddress,
    ProductCreateParams,
    ShippingRateCreateParams,
    TaxRateCreateParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionCreateParamsLineItem,
    SessionCreateParamsLineItemPriceData,
    SessionCreateParamsLineItemPriceDataProductData,
)
from stripe.params.tax import (
    CalculationCreateParams,
    CalculationCreateParamsCustomerDetailsAddress,
    CalculationCreateParamsLineItem,
    CalculationCreateParamsShippingCost,
)

from kassa.common.address import Address

__all__ = [
    "CalculationCreateParams",
    "CalculationCreateParamsCustomerDetailsAddress",
    "CalculationCreateParamsLineItem",
    "CalculationCreateParamsShippingCost",
    "CouponCreateParams",
    "PaymentIntentCreateParams",
    "PaymentIntentUpdateParams",
    "ProductCreateParams",
    "SessionCreateParams",
    "SessionCreateParamsLineItem",
    "SessionCreateParamsLineItemPriceData",
    "SessionCreateParamsLineItemPriceDataProductData",
    "ShippingRateCreateParams",
    "TaxRateCreateParams",
    "shipping",
]


def shipping(address: Address, *, phone: str) -> PaymentIntentUpdateParamsShipping:
    """Where a PaymentIntent's goods go. Empty parts are left out: Stripe refuses an empty
    string for a field it cannot clear."""
    place: PaymentIntentUpdateParamsShippingAddress = {}
    if address.line1:
        place["line1"] = address.line1
    if address.line2:
        place["line2"] = address.line2
    if address.postal_code:
        place["postal_code"] = address.postal_code
    if address.city:
        place["city"] = address.city
    if address.state:
        place["state"] = address.state
    if address.country:
        place["country"] = address.country
    params: PaymentIntentUpdateParamsShipping = {"name": address.name, "address": place}
    if phone:
        params["phone"] = phone
    return params
