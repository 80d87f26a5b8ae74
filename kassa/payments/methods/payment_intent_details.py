"""What the customer tells the shop's own card page before paying: their e-mail, name, phone and,
when goods are sent, the address and a shipping choice; sent to the order's PaymentIntent.

Nothing here is written to our database: the PaymentIntent carries it, at the amount the shop
works out for the chosen rate (never one from the browser), and the one fulfil function records
it from Stripe's report of the payment, as for Checkout.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from kassa.common.address import Address, Contact
from kassa.common.errors import Invalid
from kassa.giftcards import paying as gift_cards
from kassa.orders.checkout_defaults import check_shipping_rate, offered
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals
from kassa.orders.shipping import ShippingOption, needs_shipping
from kassa.orders.tax_mode import stripe_computes_tax
from kassa.payments import attempts
from kassa.payments.errors import CheckoutConflict
from kassa.payments.methods.payment_intent import shipping_metadata
from kassa.payments.methods.payment_intent_tax import Taxed, calculate, no_tax_metadata
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api import params as stripe_params
from kassa.stripe_api import payment_intents
from kassa.stripe_api.params import PaymentIntentUpdateParams
from kassa.stripe_api.results import PaymentIntent


class DetailsInvalid(Invalid):
    code = "invalid_details"


@dataclass(frozen=True)
class Details:
    contact: Contact
    address: Address | None  # where the goods go, for the customer's name
    shipping_rate_id: int | None
    company: str = ""  # a business buyer's, for the invoice
    tax_id: str = ""
    # The customer agreed to hear from the shop (the page's box): an unpaid order they leave
    # gets one reminder, as Checkout's consent_collection[promotions] gives.
    promotions: bool = False


def payable_intent(order: Order) -> PaymentAttempt:
    """The order's current attempt, if it is a PaymentIntent the customer can still pay."""
    attempt = (
        attempts.current_attempt(order=order) if order.status == Order.Status.PENDING else None
    )
    if (
        attempt is None
        or attempt.kind != PaymentAttempt.Kind.PAYMENT_INTENT
        or not attempt.stripe_id
    ):
        raise CheckoutConflict(
            _("This order is not waiting for a card payment. Please reload the page.")
        )
    return attempt


def _chosen(
    details: Details, *, order: Order, lines: list[OrderLine], goods: int
) -> tuple[ShippingOption | None, Address | None]:
    if not needs_shipping(lines):
        return None, None  # nothing is sent: an address or rate given is not asked for
    address = details.address
    if address is None:
        raise DetailsInvalid(_("Please enter the address to send the order to."))
    if address.country not in settings.SHOP_SHIPPING_COUNTRIES:
        raise DetailsInvalid(_("The shop does not send orders to this country."))
    options = offered(order=order, lines=lines, goods=goods)
    if not options:
        # The currency's last rate was switched off while the customer was paying: refused
        # rather than sent free.
        check_shipping_rate(currency=order.currency, lines=lines)
    if details.shipping_rate_id is None:
        raise DetailsInvalid(_("Please choose a shipping method."))
    option = next((o for o in options if o.rate.pk == details.shipping_rate_id), None)
    if option is None:
        raise DetailsInvalid(_("This shipping method is not offered for this order."))
    return option, address


def _tax_address(details: Details, *, shipped_to: Address | None) -> Address:
    """Where Stripe Tax taxes the order: where the goods go, else the billing address the page
    asks for when nothing is sent (any country: the shop ships nothing there)."""
    address = shipped_to or details.address
    if address is None:
        raise DetailsInvalid(_("Please enter your address: the tax depends on it."))
    return address


def update_params(
    details: Details,
    *,
    order: Order,
    goods: int,
    option: ShippingOption | None,
    address: Address | None,
    taxed: Taxed | None = None,
) -> PaymentIntentUpdateParams:
    metadata = {**shipping_metadata(order, option), **no_tax_metadata()}
    if taxed is not None:
        metadata.update(taxed.metadata)
    metadata["promotions_consent"] = "opt_in" if details.promotions else ""
    # Where a PaymentIntent has no field of its own for them (nothing is shipped).
    metadata["customer_name"] = details.contact.name
    metadata["customer_phone"] = details.contact.phone
    # Only the secret key writes metadata: what the invoice names comes from the shop's side.
    metadata["buyer_company"] = details.company
    metadata["buyer_tax_id"] = details.tax_id
    params: PaymentIntentUpdateParams = {
        "amount": taxed.amount if taxed else goods + (option.amount if option else 0),
        "metadata": metadata,
    }
    # One receipt: `receipt_email` makes Stripe send its own in live mode, beside the shop's
    # confirmation, so the e-mail travels in the metadata unless the owner wants Stripe's.
    if settings.SHOP_STRIPE_RECEIPTS:
        params["receipt_email"] = details.contact.email
        metadata["customer_email"] = ""
    else:
        metadata["customer_email"] = details.contact.email
    if address is not None:
        params["shipping"] = stripe_params.shipping(address, phone=details.contact.phone)
    return params


def payment_intent_details(*, order: Order, details: Details) -> PaymentIntent:
    """Send the customer's details and shipping choice to the order's PaymentIntent, its amount
    the goods plus that shipping (and, with Stripe Tax, plus the tax Stripe calculates for the
    address). Raises DetailsInvalid (nothing sent) for a choice the order is not offered,
    CheckoutConflict if the order is no longer being paid on this page."""
    attempt = payable_intent(order)
    lines = list(order.lines.select_related("item"))
    goods = order_totals(order, lines, shipping=0).total
    option, address = _chosen(details, order=order, lines=lines, goods=goods)
    goods -= gift_cards.paid_by_cards(order)  # the cards' part is not the intent's
    if attempt.amount is not None and attempt.amount != goods:
        # The attempt froze the order: its goods cannot have changed. Should they have, paying
        # now would be recorded as an unmatched payment; a reload starts afresh.
        raise CheckoutConflict(_("This order changed. Please reload the page."))
    taxed = None
    if stripe_computes_tax():
        taxed = calculate(
            order=order,
            lines=lines,
            option=option,
            address=_tax_address(details, shipped_to=address),
            shipped=address is not None,
        )
    return payment_intents.update_intent(
        currency=order.currency,
        payment_intent_id=attempt.stripe_id,
        params=update_params(
            details, order=order, goods=goods, option=option, address=address, taxed=taxed
        ),
    )
