"""The PaymentIntent kind: an order paid on the shop's own page (Stripe's Payment Element), as a
`PaymentMethod` (kassa.payments.methods.base).

Unlike a Checkout Session, a PaymentIntent that can still be paid is kept when the customer comes
back, its amount brought up to date, so reloading the payment page neither strands an intent nor
makes a second one. Stripe never expires an intent: reconciliation cancels one whose order's
reservation lapsed.
"""

import logging
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kassa.giftcards import paying as gift_cards
from kassa.orders.charge import ChargeDetails
from kassa.orders.checkout_defaults import offered
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals
from kassa.orders.shipping import ShippingOption
from kassa.orders.tax_mode import stripe_computes_tax
from kassa.payments.errors import CheckoutConflict
from kassa.payments.methods.base import (
    Made,
    PaymentMethod,
    Remote,
    RemoteState,
    ReturnPages,
    refuse_while_moving,
)
from kassa.payments.methods.checkout_session import METHOD as CHECKOUT_SESSION
from kassa.payments.methods.checkout_session import remote_of as session_remote
from kassa.payments.methods.payment_intent_tax import charge_details, no_tax_metadata
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api import checkout_sessions, payment_intents, results, tax_calculations
from kassa.stripe_api.errors import PaymentError
from kassa.stripe_api.params import PaymentIntentCreateParams
from kassa.stripe_api.results import PaymentIntent

logger = logging.getLogger(__name__)

_STATES = {
    "succeeded": RemoteState.PAID,
    "processing": RemoteState.MOVING,
    "canceled": RemoteState.CLOSED,
}


def remote_of(intent: PaymentIntent) -> Remote:
    """The intent as the payment kinds see it: open while it waits for a payment method, a
    confirmation or an action of the customer's (`requires_*`)."""
    state = _STATES.get(intent.status, RemoteState.OPEN)
    return Remote(
        kind=PaymentAttempt.Kind.PAYMENT_INTENT,
        stripe_id=intent.id,
        state=state,
        amount=(intent.amount_received or intent.amount)
        if state is RemoteState.PAID
        else intent.amount,
        currency=intent.currency,
        payment_intent_id=intent.id,
        claimed_order=intent.order_id,
        buyer=intent.buyer,
        client_secret=intent.client_secret if state is RemoteState.OPEN else "",
        shipping=intent.buyer.shipping_amount,
        tax_added=intent.tax_added,
        tax_calculation=intent.tax_calculation,
        tax_missing=intent.tax_required and not intent.tax_calculation,
        # Seen when Stripe sends the customer back: the card was declined, or it was given up.
        declined=intent.status in ("requires_payment_method", "canceled"),
        note="intent canceled" if state is RemoteState.CLOSED else "",
        details=ChargeDetails(
            tax_by_stripe=bool(intent.tax_calculation),
            tax_amount=intent.tax_amount,
            tax_inclusive=intent.tax_inclusive and intent.tax_amount > 0,
            company=intent.buyer.company,
            tax_id=intent.buyer.tax_id,
        ),
        # Given up unpaid (cancelled once its reservation lapsed) by a customer who ticked the
        # page's box: where the one reminder may go.
        recovery_email=(
            intent.buyer.contact.email
            if state is RemoteState.CLOSED and intent.promotions_consent
            else ""
        ),
    )


def _from_event(data: dict[str, Any]) -> Remote:
    return remote_of(results.payment_intent(data))


def _failed_from_event(data: dict[str, Any]) -> Remote:
    # The customer can try another card on the same PaymentIntent; the order stays as it is.
    error = (data.get("last_payment_error") or {}).get("code", "unknown")
    logger.info("payment intent %s failed: %s", data.get("id"), error)
    return _from_event(data)


def default_shipping(*, order: Order, lines: list[OrderLine], goods: int) -> ShippingOption | None:
    """The shipping an intent asks for until the customer chooses: the cheapest rate offered,
    as Checkout shows an open session priced with its first option."""
    options = offered(order=order, lines=lines, goods=goods)
    return options[0] if options else None


def shipping_metadata(order: Order, option: ShippingOption | None) -> dict[str, str]:
    """What fulfilment reads back to record the shipping and to check the payment: the goods
    are the intent's amount less `shipping_amount`. Empty values remove a key at Stripe."""
    return {
        "order_id": str(order.pk),
        "shipping_rate_id": str(option.rate.pk) if option else "",
        "shipping_amount": str(option.amount) if option else "",
        "shipping_method": option.rate.name if option else "",
    }


def payment_intent_params(
    *, order: Order, goods: int, option: ShippingOption | None
) -> PaymentIntentCreateParams:
    order_ref = str(order.pk)
    metadata = {k: v for k, v in shipping_metadata(order, option).items() if v}
    if stripe_computes_tax():
        # Its amount holds no tax until the customer's address is known (the card page sends
        # it before confirming): paid before then, it is not what the shop asked.
        metadata["tax"] = "stripe"
    return {
        "amount": goods + (option.amount if option else 0),
        "currency": order.currency,
        "automatic_payment_methods": {"enabled": True},
        # Stripe refuses empty metadata values on create.
        "metadata": metadata,
        "description": f"Kassa order #{order_ref}",
    }


class PaymentIntentMethod(PaymentMethod):
    kind = PaymentAttempt.Kind.PAYMENT_INTENT
    label = "payment intent"
    payment_description = gettext_lazy("Card, on the shop’s payment page (Stripe)")
    return_parameter = "payment_intent"
    events = {
        "payment_intent.succeeded": _from_event,
        "payment_intent.payment_failed": _failed_from_event,
    }

    def check_payable(self, order: Order) -> None:
        if order_totals(order).is_free:
            # Stripe cannot charge nothing; Checkout takes a free order, the Payment Element not.
            raise CheckoutConflict(
                _("This order costs nothing, so there is no card payment to make.")
            )

    def create(
        self, *, order: Order, attempt: int, lines: list[OrderLine], pages: ReturnPages
    ) -> Made:
        """The attempt's intent for the goods plus the default shipping; the card page offers
        the choice, and the intent's amount follows it (payment_intent_details)."""
        goods = order_totals(order, lines, shipping=0).total
        option = default_shipping(order=order, lines=lines, goods=goods)
        # Gift cards in the cart pay their part first: the intent asks for the rest (the
        # shipping offered still follows the goods' full total).
        goods -= sum(part.amount for part in gift_cards.held_for_attempt(order, lines))
        intent = payment_intents.create_intent(
            currency=order.currency,
            params=payment_intent_params(order=order, goods=goods, option=option),
            idempotency_key=f"kassa-payment-intent-{order.pk}-{attempt}",
        )
        return Made(remote=remote_of(intent), goods=goods)

    def retrieve(self, *, currency: str, stripe_id: str) -> Remote:
        return remote_of(
            payment_intents.retrieve_intent(currency=currency, payment_intent_id=stripe_id)
        )

    def close(self, *, currency: str, stripe_id: str) -> Remote:
        """Cancel the intent unless money moved through it; one being processed is left."""
        remote = self.retrieve(currency=currency, stripe_id=stripe_id)
        if remote.state is RemoteState.OPEN:
            cancelled = payment_intents.cancel_intent(
                currency=currency, payment_intent_id=stripe_id
            )
            remote = remote_of(cancelled)
        return remote

    def keep(self, *, order: Order, earlier: PaymentAttempt) -> Remote | None:
        """The newest earlier attempt's intent, if it is one and can still be paid. Raises
        CheckoutConflict if a payment through it is being processed."""
        if earlier.kind != self.kind:
            return None
        remote = self.retrieve(currency=order.currency, stripe_id=earlier.stripe_id)
        refuse_while_moving(remote)
        return remote if remote.state in (RemoteState.OPEN, RemoteState.PAID) else None

    def bring_up_to_date(
        self, *, order: Order, attempt: int, remote: Remote, goods: int, lines: list[OrderLine]
    ) -> Remote:
        """The kept intent, for what the order's goods cost now (the customer edited the cart
        in between, or its discount lapsed as this attempt began) with the default shipping:
        the page offers the choice afresh."""
        option = default_shipping(order=order, lines=lines, goods=goods)
        total = goods + (option.amount if option else 0)
        rate_id = option.rate.pk if option else None
        if remote.amount == total and remote.buyer.shipping_rate_id == rate_id:
            return remote
        intent = payment_intents.update_intent(
            currency=order.currency,
            payment_intent_id=remote.stripe_id,
            # Without the tax a calculation added: the page asks for it again for the address.
            params={
                "amount": total,
                "metadata": {
                    **shipping_metadata(order, option),
                    **no_tax_metadata(),
                    "tax": "stripe" if stripe_computes_tax() else "",
                },
            },
            idempotency_key=f"kassa-payment-intent-amount-{order.pk}-{attempt}",
        )
        return remote_of(intent)

    def recorded_as(self, remote: Remote) -> Remote | None:
        """Checkout pays through a PaymentIntent of its own: the session is the attempt, and its
        payment is recorded through it (Stripe reports the two in either order)."""
        attempts = PaymentAttempt.objects.filter(kind=self.kind, stripe_id=remote.stripe_id)
        if attempts.exists():
            if attempts.filter(state=PaymentAttempt.State.PAID).exists():
                return remote  # recorded already: its report again changes nothing
            return with_tax_breakdown(remote)
        sessions = PaymentAttempt.objects.filter(kind=CHECKOUT_SESSION.kind)
        if sessions.filter(payment_intent_id=remote.stripe_id).exists():
            return None
        session = checkout_sessions.session_paid_by(
            currency=remote.currency, payment_intent_id=remote.stripe_id
        )
        if session is not None and sessions.filter(stripe_id=session.id).exists():
            return session_remote(session)
        return remote


def with_tax_breakdown(remote: Remote) -> Remote:
    """A paid intent whose tax Stripe calculated, with the tax per rate and per line, which only
    the calculation carries (read once, when the payment is recorded)."""
    if not remote.tax_calculation or remote.details.tax_shares:
        return remote
    try:
        calculation = tax_calculations.retrieve_calculation(
            currency=remote.currency, calculation_id=remote.tax_calculation
        )
    except PaymentError:
        logger.warning("%s: its tax per rate could not be read now", remote.stripe_id)
        return remote  # recorded with the tax's total: the money wins
    computed = charge_details(calculation, inclusive=remote.details.tax_inclusive)
    return replace(
        remote,
        details=replace(
            remote.details,
            tax_amount=computed.tax_amount,
            tax_shares=computed.tax_shares,
            line_taxes=computed.line_taxes,
        ),
    )


METHOD = PaymentIntentMethod()
