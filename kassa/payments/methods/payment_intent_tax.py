"""Stripe Tax for the card page: the tax on the order's lines and shipping for the customer's
address (a Stripe Tax calculation), asked before the PaymentIntent is confirmed so that its
amount holds the tax, and what the calculation says written where fulfilment reads it back.

A PaymentIntent has no tax of its own: the calculation's id and figures travel in its metadata
(only the secret key writes metadata), and the payment is checked against the goods the shop
asked, as Checkout's is: the intent's amount less the shipping and less the tax added on top.
"""

from dataclasses import dataclass

from kassa.common.address import Address
from kassa.orders.charge import ChargeDetails, TaxShare
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals
from kassa.orders.shipping import ShippingOption
from kassa.orders.tax_mode import SHIPPING_TAX_CODE, tax_behavior, tax_code
from kassa.stripe_api import tax_calculations
from kassa.stripe_api.params import (
    CalculationCreateParams,
    CalculationCreateParamsCustomerDetailsAddress,
    CalculationCreateParamsLineItem,
    CalculationCreateParamsShippingCost,
)
from kassa.stripe_api.results import TaxCalculation

# The metadata keys the calculation's figures travel in (results.payment_intent reads them).
TAX_KEYS = ("tax_calculation", "tax_amount", "tax_added", "tax_inclusive")
LINE_REFERENCE = "line-"


@dataclass(frozen=True)
class Taxed:
    amount: int  # what the intent asks: the goods, the shipping and the tax added on top
    metadata: dict[str, str]  # the calculation's figures, and the shipping with its tax


def no_tax_metadata() -> dict[str, str]:
    """Empty values: the keys removed from an intent whose amount no longer holds the tax."""
    return dict.fromkeys(TAX_KEYS, "")


def _address_params(address: Address) -> CalculationCreateParamsCustomerDetailsAddress:
    place: CalculationCreateParamsCustomerDetailsAddress = {"country": address.country}
    for key, value in (
        ("line1", address.line1),
        ("line2", address.line2),
        ("city", address.city),
        ("state", address.state),
        ("postal_code", address.postal_code),
    ):
        if value:  # Stripe refuses an empty string for a field it cannot clear
            place[key] = value  # type: ignore[literal-required]
    return place


def calculate(
    *,
    order: Order,
    lines: list[OrderLine],
    option: ShippingOption | None,
    address: Address,
    shipped: bool,
) -> Taxed:
    """Ask Stripe Tax for the order's tax at `address` (where the goods go, or the billing
    address when nothing is sent); each line as the shop charges it, after its share of the
    discount, and the chosen shipping, with the prices' tax behaviour (SHOP_PRICES_INCLUDE_TAX)."""
    behavior = tax_behavior(order.currency)
    totals = order_totals(order, lines, shipping=0)
    line_items: list[CalculationCreateParamsLineItem] = [
        {
            "amount": part.amount - part.discount,
            "quantity": part.line.quantity,
            "reference": f"{LINE_REFERENCE}{part.line.pk}",
            "tax_behavior": behavior,
            "tax_code": tax_code(part.line.item),
        }
        for part in totals.lines
        if part.amount - part.discount > 0  # Stripe takes positive amounts only
    ]
    params: CalculationCreateParams = {
        "currency": order.currency,
        "line_items": line_items,
        "customer_details": {
            "address": _address_params(address),
            "address_source": "shipping" if shipped else "billing",
        },
    }
    shipping = option.amount if option else 0
    if shipping:
        cost: CalculationCreateParamsShippingCost = {
            "amount": shipping,
            "tax_behavior": behavior,
            "tax_code": SHIPPING_TAX_CODE,
        }
        params["shipping_cost"] = cost
    calculation = tax_calculations.create_calculation(currency=order.currency, params=params)
    inclusive = behavior == "inclusive"
    shipping_added = 0 if inclusive else calculation.shipping_tax
    return Taxed(
        amount=calculation.amount_total,
        metadata={
            "tax_calculation": calculation.id,
            "tax_amount": str(calculation.tax),
            # On top of the goods; the shipping's own tax travels with the shipping, as
            # Checkout reports a shipping cost's total.
            "tax_added": str(calculation.tax_exclusive - shipping_added),
            "tax_inclusive": "true" if inclusive else "",
            "shipping_amount": str(shipping + shipping_added) if option else "",
        },
    )


def charge_details(calculation: TaxCalculation, *, inclusive: bool) -> ChargeDetails:
    """What the order records of the tax a paid calculation computed: per rate and per line."""
    return ChargeDetails(
        tax_by_stripe=True,
        tax_amount=calculation.tax,
        tax_inclusive=inclusive and calculation.tax > 0,
        tax_shares=tuple(
            TaxShare(name=part.name, rate=part.rate, amount=part.amount, inclusive=part.inclusive)
            for part in calculation.parts
        ),
        line_taxes=tuple(
            (int(line.reference.removeprefix(LINE_REFERENCE)), line.amount_tax)
            for line in calculation.lines
            if line.reference.startswith(LINE_REFERENCE)
            and line.reference.removeprefix(LINE_REFERENCE).isdigit()
        ),
    )
