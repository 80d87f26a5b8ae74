"""Stripe Tax calculations: the tax for a basket and a customer's address, asked before a
payment on the shop's own page is confirmed, and read again (with its lines) once it is paid."""

from stripe.params.tax import CalculationCreateParams

from kassa.stripe_api import results
from kassa.stripe_api.client import call, client_for, create, retrieve
from kassa.stripe_api.results import TaxCalculation


def create_calculation(*, currency: str, params: CalculationCreateParams) -> TaxCalculation:
    """A new calculation. No idempotency key of ours: a calculation changes nothing at Stripe
    (only a transaction made from it does), and stripe-python keys its own retries."""
    client = client_for(currency)
    made = create(
        "tax.Calculation.create", lambda: client.v1.tax.calculations.create(params=params)
    )
    return results.tax_calculation(made)


def retrieve_calculation(*, currency: str, calculation_id: str) -> TaxCalculation:
    """The calculation with its line items (Stripe keeps them until the calculation expires)."""
    client = client_for(currency)
    found = retrieve(
        "tax.Calculation.retrieve", lambda: client.v1.tax.calculations.retrieve(calculation_id)
    )
    lines = call(
        "tax.Calculation.list_line_items",
        lambda: client.v1.tax.calculations.line_items.list(calculation_id, params={"limit": 100}),
    )
    return results.tax_calculation(found, [line.to_dict() for line in lines.data])
