"""The one way a payment attempt starts, for Checkout and for the Payment Element, for a cart and
for Buy now:

    begin (a new one-line order is created in its first attempt)
    → make sure the order's earlier attempts can no longer be paid
    → create the Checkout Session or PaymentIntent at Stripe
    → attach it to the attempt, or close it if a newer attempt won meanwhile
    → on failure, the attempt fails: the order reopens (a Buy click's order goes)

No database transaction is open while Stripe answers: each step commits before the next call.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from kassa.catalog.models import Item
from kassa.metrics import instruments as metrics
from kassa.orders import lifecycle, stock, terms
from kassa.orders import selectors as order_selectors
from kassa.orders import services as order_services
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals
from kassa.orders.visitors import Visitor
from kassa.payments import attempts, checkout, intents
from kassa.payments.checkout import ReturnPages
from kassa.payments.errors import CheckoutConflict, CheckoutSuperseded
from kassa.payments.fulfilment import fulfil_checkout_session, fulfil_payment_intent
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api import checkout_sessions, client, payment_intents, results
from kassa.stripe_api.errors import PaymentError, StripeObjectMissing

logger = logging.getLogger(__name__)
Kind = PaymentAttempt.Kind


def _already_paid() -> CheckoutConflict:
    return CheckoutConflict(
        _("This order has already been paid. It will show as paid in a moment.")
    )


@dataclass(frozen=True)
class Started:
    """A payable attempt: where to send the customer (Checkout) or what the Payment Element
    needs (a PaymentIntent's client secret), and the amount Stripe will charge."""

    order: Order
    attempt: PaymentAttempt
    amount: int
    url: str = ""
    client_secret: str = ""


@dataclass(frozen=True)
class _Made:
    stripe_id: str
    amount: int
    url: str = ""
    client_secret: str = ""
    payment_intent_id: str = ""
    charged: int = 0  # what Stripe will charge, when more than the goods the attempt asks


def checkout_start(*, order: Order, pages: ReturnPages) -> Started:
    """The order's Checkout Session: the one it is being paid through, if Stripe still has it
    open, else a new one; no earlier attempt of it can be paid after this.

    Answering the open session again makes the Buy link safe to repeat: a second tab, a reload
    or a link from another site finds the session the customer may be paying through, rather than
    expiring it under them. Its lines cannot have changed: an order in payment is frozen.
    """
    current = (
        attempts.current_attempt(order=order) if order.status == Order.Status.PENDING else None
    )
    if current is not None and current.kind == Kind.CHECKOUT_SESSION and current.stripe_id:
        session = _still_open(order=order, attempt=current)
        if session is not None:
            return Started(
                order=order, attempt=current, amount=session.amount_total, url=session.url
            )
    return _start(order=order, kind=Kind.CHECKOUT_SESSION, pages=pages)


def payment_intent_start(*, order: Order, pages: ReturnPages) -> Started:
    """The order's PaymentIntent for exactly the total we show: the one it has, if it can still
    be paid, or a new one; no Checkout Session of the order can be paid after this."""
    if order_totals(order).is_free:
        # Stripe cannot charge nothing; Checkout handles a free order, the Payment Element not.
        raise CheckoutConflict(_("This order costs nothing, so there is no card payment to make."))
    return _start(order=order, kind=Kind.PAYMENT_INTENT, pages=pages)


def checkout_buy(*, item: Item, visitor: Visitor, pages: ReturnPages, quantity: int = 1) -> Started:
    """Buy an item now through Stripe Checkout: a one-line order, or nothing if Stripe fails
    (or the stock is short: its units are held as the order is made).

    Safe to repeat: while the visitor's earlier Buy now of the item is still being paid through
    an open Checkout Session, at the item's price today, a click again (a reload, a second tab,
    a link from another site) answers that session rather than making another order and
    session beside it.
    """
    again = _buy_now_still_open(item=item, visitor=visitor, quantity=quantity)
    if again is not None:
        return again
    return _buy(
        item=item, visitor=visitor, kind=Kind.CHECKOUT_SESSION, pages=pages, quantity=quantity
    )


def payment_intent_buy(
    *, item: Item, visitor: Visitor, pages: ReturnPages, quantity: int = 1
) -> Started:
    """Buy an item now on our own page: a one-line order and its PaymentIntent."""
    return _buy(
        item=item, visitor=visitor, kind=Kind.PAYMENT_INTENT, pages=pages, quantity=quantity
    )


def checkout_cancel(*, order: Order, source: str, attempt: int | None = None) -> None:
    """The customer left the payment: close its attempts and give them their cart back.

    With `attempt` (Stripe's cancel link of one attempt), only if that is still the order's
    current one: an old tab's link must not cancel a payment started since.
    """
    if order.status != Order.Status.PENDING:
        return
    current = attempts.current_attempt(order=order)
    if attempt is not None and (current is None or current.number != attempt):
        return
    for earlier in PaymentAttempt.objects.filter(order=order, state=PaymentAttempt.State.OPEN):
        if earlier.stripe_id:
            _close(order=order, attempt=earlier)
        attempts.attempt_close(attempt=earlier, source=source, note=source)
    if current is None:
        # Pending with no attempt recorded (its checkout never got going): nothing to close.
        lifecycle.order_reopen(order_id=order.pk, source=source)


def _start(*, order: Order, kind: str, pages: ReturnPages) -> Started:
    account = client.ensure_configured(order.currency).account
    begun = attempts.attempt_begin(order=order, kind=kind, account=account)
    attempt = begun.attempt
    kept: tuple[PaymentAttempt, results.PaymentIntent] | None = None
    try:
        for earlier in begun.earlier:
            if kind == Kind.PAYMENT_INTENT and earlier is begun.earlier[-1]:
                kept = _keepable_intent(order=order, earlier=earlier)
                if kept is not None:
                    continue
            _close(order=order, attempt=earlier)
            attempts.attempt_close(attempt=earlier, source="superseded", note="superseded")
    except PaymentError:
        # The order stays pending on its earlier attempt, still payable, or is paid already.
        attempts.attempt_fail(attempt=attempt, source="earlier attempt could not be closed")
        raise
    # The lines are frozen now that the attempt has begun.
    lines = list(order.lines.select_related("item"))
    if kept is not None:
        return _keep_intent(order=order, attempt=attempt, lines=lines, kept=kept)
    try:
        made = _create(order=order, attempt=attempt, lines=lines, pages=pages)
    except PaymentError as exc:
        # No payable attempt is left for the order: give the customer their cart back.
        attempts.attempt_fail(attempt=attempt, source=f"{_label(kind)} failed")
        metrics.checkout_failed(currency=order.currency, kind=kind, error=exc)
        raise
    return _attach(order=order, attempt=attempt, made=made)


def _buy_now_still_open(*, item: Item, visitor: Visitor, quantity: int) -> Started | None:
    if visitor.is_new:
        return None  # a first click: nothing to find, and no query for the busiest write
    order = order_selectors.buy_now_order_in_payment(
        visitor=visitor,
        item=item,
        quantity=quantity,
        tax=terms.default_tax(item.currency),
    )
    if order is None:
        return None
    current = attempts.current_attempt(order=order)
    if current is None or current.kind != Kind.CHECKOUT_SESSION or not current.stripe_id:
        return None  # still being made (another tab's click), or paid on our own page
    try:
        session = _still_open(order=order, attempt=current)
    except CheckoutConflict:
        return None  # that one was paid (and is recorded now): this is a new purchase
    if session is None:
        return None
    return Started(order=order, attempt=current, amount=session.amount_total, url=session.url)


def _buy(*, item: Item, visitor: Visitor, kind: str, pages: ReturnPages, quantity: int) -> Started:
    account = client.ensure_configured(item.currency).account
    # Created already pending, in its first attempt, in one transaction, and its lines handed on
    # rather than read back: the Buy click is the shop's busiest write.
    with transaction.atomic():
        order, lines = order_services.order_create_for_item(
            item=item, visitor=visitor, quantity=quantity
        )
        attempt = attempts.attempt_begin_new_order(order=order, kind=kind, account=account)
        # Last before the commit: from here the item's row is locked, and a flash sale's
        # buyers all wait for it, so nothing else is written while it is held.
        stock.reserve(order=order, lines=lines)
    try:
        made = _create(order=order, attempt=attempt, lines=lines, pages=pages)
    except PaymentError as exc:
        # The order existed only for this payment; leave nothing half-written behind.
        attempts.attempt_discard_new_order(attempt=attempt, source=f"{_label(kind)} failed")
        metrics.checkout_failed(currency=order.currency, kind=kind, error=exc)
        raise
    return _attach(order=order, attempt=attempt, made=made)


def _create(
    *, order: Order, attempt: PaymentAttempt, lines: list[OrderLine], pages: ReturnPages
) -> _Made:
    if attempt.kind == Kind.CHECKOUT_SESSION:
        session = checkout.create_session(
            order=order, attempt=attempt.number, lines=lines, pages=pages
        )
        # The attempt asks for the goods: the customer picks the shipping in Checkout, and
        # fulfilment checks what was paid against the goods plus the shipping Stripe reports.
        return _Made(
            stripe_id=session.id,
            amount=session.amount_total - session.amount_shipping,
            url=session.url,
        )
    # As for Checkout, the attempt asks for the goods; the intent adds the shipping chosen.
    goods = order_totals(order, lines, shipping=0).total
    intent = intents.create_intent(order=order, attempt=attempt.number, lines=lines, goods=goods)
    return _Made(
        stripe_id=intent.id,
        amount=goods,
        client_secret=intent.client_secret,
        payment_intent_id=intent.id,
        charged=intent.amount,
    )


def _attach(*, order: Order, attempt: PaymentAttempt, made: _Made) -> Started:
    if not attempts.attempt_attach(
        attempt=attempt,
        stripe_id=made.stripe_id,
        amount=made.amount,
        payment_intent_id=made.payment_intent_id,
    ):
        # A newer attempt for this order began while ours was being made: ours must not stay
        # payable next to it.
        logger.info("order %s attempt %s superseded; closing %s", order.pk, attempt.number, made)
        _close(order=order, attempt=attempt)
        raise CheckoutSuperseded(
            _("A newer checkout for this order was started in another window.")
        )
    metrics.checkout_started(currency=order.currency, kind=attempt.kind)
    return Started(
        order=order,
        attempt=attempt,
        amount=made.charged or made.amount,
        url=made.url,
        client_secret=made.client_secret,
    )


def _still_open(*, order: Order, attempt: PaymentAttempt) -> results.CheckoutSession | None:
    """The attempt's session if a customer can still pay through it. Raises CheckoutConflict if
    they already did (the order is marked paid here, in case the webhook is late)."""
    try:
        session = checkout_sessions.retrieve_session(
            currency=order.currency, session_id=attempt.stripe_id
        )
    except StripeObjectMissing:
        return None  # a new attempt closes it
    if session.status == "complete":
        fulfil_checkout_session(session, source=f"checkout {session.id} found paid")
        raise _already_paid()
    return session if session.status == "open" and session.url else None


def _keepable_intent(
    *, order: Order, earlier: PaymentAttempt
) -> tuple[PaymentAttempt, results.PaymentIntent] | None:
    """The order's newest earlier attempt, if it is a PaymentIntent that can still be paid.
    Raises CheckoutConflict if money moved or is moving through it."""
    if earlier.kind != Kind.PAYMENT_INTENT:
        return None
    intent = payment_intents.retrieve_intent(
        currency=order.currency, payment_intent_id=earlier.stripe_id
    )
    intents.refuse_if_moving(intent)
    if intent.status == intents.SETTLED:
        fulfil_payment_intent(intent, source=f"payment intent {intent.id} found paid")
        raise _already_paid()
    if intent.status == intents.CANCELED:
        return None
    return earlier, intent


def _keep_intent(
    *,
    order: Order,
    attempt: PaymentAttempt,
    lines: list[OrderLine],
    kept: tuple[PaymentAttempt, results.PaymentIntent],
) -> Started:
    earlier, intent = kept
    amount = order_totals(order, lines, shipping=0).total
    # Recorded before the amount changes at Stripe, so a payment of the new amount finds its
    # attempt however soon it arrives.
    if not attempts.attempt_attach(
        attempt=attempt, stripe_id=intent.id, amount=amount, payment_intent_id=intent.id
    ):
        # The newer attempt found this same intent on the order and decides what becomes of it.
        raise CheckoutSuperseded(_("A newer payment for this order was started in another window."))
    try:
        intent = intents.update_amount(
            order=order, attempt=attempt.number, intent=intent, amount=amount, lines=lines
        )
    except PaymentError:
        # The order keeps the intent it had, at its amount: still its one payable attempt.
        attempts.attempt_fail(attempt=attempt, source="payment intent amount not updated")
        raise
    attempts.attempt_close(
        attempt=earlier, source="payment intent kept", note=f"kept as attempt {attempt.number}"
    )
    return Started(
        order=order, attempt=attempt, amount=intent.amount, client_secret=intent.client_secret
    )


def _close(*, order: Order, attempt: PaymentAttempt) -> None:
    """Make sure `attempt`'s Stripe object can no longer be paid. Raises CheckoutConflict if the
    customer paid through it (the order is marked paid here, in case the webhook is late) or a
    payment through it is being processed."""
    try:
        _close_at_stripe(order=order, attempt=attempt)
    except StripeObjectMissing:
        # Stripe no longer knows it (made in an account whose keys changed since): nobody can
        # pay through it, which is all closing asks.
        logger.warning(
            "order %s attempt %s: %s is gone from Stripe",
            order.pk,
            attempt.number,
            attempt.stripe_id,
        )


def _close_at_stripe(*, order: Order, attempt: PaymentAttempt) -> None:
    if attempt.kind == Kind.CHECKOUT_SESSION:
        session = checkout.close_session(currency=order.currency, session_id=attempt.stripe_id)
        if session.status == "complete":
            fulfil_checkout_session(session, source=f"checkout {session.id} found paid")
            raise _already_paid()
        return
    intent = intents.close_intent(currency=order.currency, payment_intent_id=attempt.stripe_id)
    if intent.status == intents.SETTLED:
        fulfil_payment_intent(intent, source=f"payment intent {intent.id} found paid")
        raise _already_paid()


def _label(kind: str) -> str:
    return "checkout" if kind == Kind.CHECKOUT_SESSION else "payment intent"
