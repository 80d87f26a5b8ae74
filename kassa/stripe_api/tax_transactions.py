"""Stripe Tax transactions: a paid calculation recorded for the owner's tax reports, and its
reversals when money goes back."""

from stripe.params.tax import (
    TransactionCreateFromCalculationParams,
    TransactionCreateReversalParams,
)

from kassa.common.installation import installation_id
from kassa.stripe_api import results
from kassa.stripe_api.client import client_for, create, keyed
from kassa.stripe_api.results import TaxTransaction


def reference(name: str) -> str:
    """A transaction's reference, unique across the account as Stripe requires: this
    installation's own, as idempotency keys are (another database on the same account)."""
    return f"{installation_id()[:12]}-{name}"


def create_from_calculation(
    *, currency: str, calculation_id: str, name: str, metadata: dict[str, str]
) -> TaxTransaction:
    """The sale of `calculation_id`, recorded once: the same `name` again answers the same
    transaction (the idempotency key) and Stripe refuses a second one with its reference."""
    client = client_for(currency)
    params: TransactionCreateFromCalculationParams = {
        "calculation": calculation_id,
        "reference": reference(name),
        "metadata": metadata,
    }
    made = create(
        "tax.Transaction.create_from_calculation",
        lambda: client.v1.tax.transactions.create_from_calculation(
            params=params, options=keyed(f"kassa-tax-transaction-{name}")
        ),
    )
    return results.tax_transaction(made)


def create_reversal(
    *,
    currency: str,
    transaction_id: str,
    name: str,
    amount: int | None,
    metadata: dict[str, str],
) -> TaxTransaction:
    """Reverse the transaction: all of it (`amount` None), or `amount` (minor units, tax
    included, as refunded) spread by Stripe over its lines."""
    client = client_for(currency)
    params: TransactionCreateReversalParams = {
        "original_transaction": transaction_id,
        "reference": reference(name),
        "mode": "full" if amount is None else "partial",
        "metadata": metadata,
    }
    if amount is not None:
        params["flat_amount"] = -amount
    made = create(
        "tax.Transaction.create_reversal",
        lambda: client.v1.tax.transactions.create_reversal(
            params=params, options=keyed(f"kassa-tax-reversal-{name}")
        ),
    )
    return results.tax_transaction(made)
