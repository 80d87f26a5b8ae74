"""The one way a payment attempt starts, whatever its kind (kassa.payments.methods), for a cart
and for Buy now:

    begin (a new one-line order is created in its first attempt)
    → make sure the order's earlier attempts can no longer be paid (or keep the newest one's
      object, if the kind takes it over)
    → create the kind's Stripe object
    → attach it to the attempt, or close it if a newer attempt won meanwhile
    → on failure, the attempt fails: the order reopens (a Buy click's order goes)

No database transaction is open while Stripe answers: each step commits before the next call.
"""

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.catalog.models import Item
from kassa.common.inserts import Together
from kassa.giftcards import paying as gift_cards
from kassa.metrics import instruments as metrics
from kassa.orders import cart as order_cart
from kassa.orders import checkout_defaults, holds, lifecycle, stock
from kassa.orders import selectors as order_selectors
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals
from kassa.orders.visitors import Visitor
from kassa.payments import attempts, buyer
from kassa.payments.errors import CheckoutConflict, CheckoutSuperseded
from kassa.payments.fulfilment import fulfil
from kassa.payments.methods import method_for
from kassa.payments.methods.base import (
    Made,
    PaymentMethod,
    Remote,
    RemoteState,
    ReturnPages,
    refuse_while_moving,
)
from kassa.payments.models import PaymentAttempt
from kassa.stripe_api.client import ensure_configured
from kassa.stripe_api.errors import PaymentError, StripeObjectMissing

logger = logging.getLogger(__name__)
Kind = PaymentAttempt.Kind


@dataclass(frozen=True)
class Started:
    """A payable attempt: where to send the customer (Checkout) or what the Payment Element
    needs (a PaymentIntent's client secret), and the amount Stripe will charge."""

    order: Order
    attempt: PaymentAttempt
    amount: int
    url: str = ""
    client_secret: str = ""


def start(*, order: Order, kind: str, pages: ReturnPages, email: str = "") -> Started:
    """The order's payment through `kind`: the one it is being paid through, if the kind can go
    on with it as it is, else a new attempt; no earlier attempt of it can be paid after this.

    `email` is the buyer's, typed where the shop asks for it: needed (EmailRequired otherwise)
    when gift cards pay all of the order and the shop knows no address (see buyer)."""
    method = method_for(kind)
    method.check_payable(order)
    email = buyer.typed_email(email)  # a wrong one is refused before anything is written
    current = (
        attempts.current_attempt(order=order)
        if method.answers_again and order.status == Order.Status.PENDING
        else None
    )
    if current is not None:
        again = _resumed(method, order=order, attempt=current)
        if again is not None:
            return again
    return _start(order=order, method=method, pages=pages, email=email)


def checkout_start(*, order: Order, pages: ReturnPages, email: str = "") -> Started:
    """The order's Checkout Session (or, when its gift cards pay all of it, the order paid)."""
    return start(order=order, kind=Kind.CHECKOUT_SESSION, pages=pages, email=email)


def payment_intent_start(*, order: Order, pages: ReturnPages, email: str = "") -> Started:
    """The order's PaymentIntent for exactly the total we show."""
    return start(order=order, kind=Kind.PAYMENT_INTENT, pages=pages, email=email)


def buy(
    *, item: Item, visitor: Visitor, kind: str, pages: ReturnPages, quantity: int = 1
) -> Started:
    """Buy an item now: a one-line order paid through `kind`, or nothing if Stripe fails (or
    the stock is short: its units are held as the order is made).

    Safe to repeat where the kind allows: while the visitor's earlier Buy now of the item is
    still being paid at the item's price today, a click again (a reload, a second tab, a link
    from another site) answers that payment rather than making another order beside it.
    """
    method = method_for(kind)
    again = _buy_now_still_open(method, item=item, visitor=visitor, quantity=quantity)
    if again is not None:
        return again
    return _buy(item=item, visitor=visitor, method=method, pages=pages, quantity=quantity)


def checkout_buy(*, item: Item, visitor: Visitor, pages: ReturnPages, quantity: int = 1) -> Started:
    """Buy an item now through Stripe Checkout."""
    return buy(
        item=item, visitor=visitor, kind=Kind.CHECKOUT_SESSION, pages=pages, quantity=quantity
    )


def payment_intent_buy(
    *, item: Item, visitor: Visitor, pages: ReturnPages, quantity: int = 1
) -> Started:
    """Buy an item now on our own page: a one-line order and its PaymentIntent."""
    return buy(item=item, visitor=visitor, kind=Kind.PAYMENT_INTENT, pages=pages, quantity=quantity)


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


def _start(*, order: Order, method: PaymentMethod, pages: ReturnPages, email: str) -> Started:
    account = ensure_configured(order.currency).account
    begun = attempts.attempt_begin(order=order, kind=method.kind, account=account, email=email)
    attempt = begun.attempt
    kept: tuple[PaymentAttempt, Remote] | None = None
    try:
        for earlier in begun.earlier:
            if earlier is begun.earlier[-1]:
                remote = method.keep(order=order, earlier=earlier)
                if remote is not None:
                    _refuse_if_settled(remote)
                    kept = earlier, remote
                    continue
            _close(order=order, attempt=earlier)
            attempts.attempt_close(attempt=earlier, source="superseded", note="superseded")
    except PaymentError:
        # The order stays pending on its earlier attempt, still payable, or is paid already.
        attempts.attempt_fail(attempt=attempt, source="earlier attempt could not be closed")
        raise
    if begun.paid_by_gift_cards_for:
        return _paid_by_gift_cards(
            order=order,
            attempt=attempt,
            pages=pages,
            held=begun.held_by_gift_cards,
            email=begun.paid_by_gift_cards_for,
        )
    # The lines are frozen now that the attempt has begun.
    lines = list(order.lines.select_related("item"))
    if kept is not None:
        return _keep(order=order, method=method, attempt=attempt, lines=lines, kept=kept)
    try:
        made = method.create(order=order, attempt=attempt.number, lines=lines, pages=pages)
    except PaymentError as exc:
        # No payable attempt is left for the order: give the customer their cart back.
        attempts.attempt_fail(attempt=attempt, source=f"{method.label} failed")
        metrics.checkout_failed(currency=order.currency, kind=method.kind, error=exc)
        raise
    return _attach(order=order, attempt=attempt, made=made)


def _paid_by_gift_cards(
    *, order: Order, attempt: PaymentAttempt, pages: ReturnPages, held: int, email: str
) -> Started:
    """The order's gift cards pay all of it: paid here, with no call to Stripe. The attempt is
    its record (no Stripe object), and the customer goes straight to the success page. No
    Stripe page asked the buyer's e-mail: the one the shop knew or asked for is recorded as
    the order is marked paid, so its confirmation goes there."""
    with transaction.atomic():
        lifecycle.order_mark_paid(
            order_id=order.pk,
            amount=held,
            source="paid by gift card",
            contact=replace(order.contact, email=email),
        )
        attempts.attempt_mark_paid(attempt=attempt, payment_intent_id="")
    order.refresh_from_db()
    return Started(order=order, attempt=attempt, amount=0, url=f"{pages.success}?order={order.pk}")


def _buy_now_still_open(
    method: PaymentMethod, *, item: Item, visitor: Visitor, quantity: int
) -> Started | None:
    if not method.answers_again:
        return None
    tax = checkout_defaults.default_tax(item.currency)
    if not visitor.is_new:
        order = order_selectors.buy_now_order_in_payment(
            visitor=visitor, item=item, quantity=quantity, tax=tax
        )
    elif (
        settings.SHOP_THROTTLE
        and settings.SHOP_BUY_AGAIN_SECONDS > 0
        and visitor.address
        and item.stock is not None
    ):
        # No cookie: a script's clicks, or a browser keeping none, would each hold more units.
        # The same address clicking the same Buy of stock within seconds gets the payment it
        # started (an item whose stock is not counted holds nothing, so it is not looked for).
        since = timezone.now() - timedelta(seconds=settings.SHOP_BUY_AGAIN_SECONDS)
        order = order_selectors.buy_now_order_placed_from(
            placed_from=holds.placed_from(visitor),
            since=since,
            item=item,
            quantity=quantity,
            tax=tax,
        )
    else:
        return None  # a first click: nothing to find, and no query for the busiest write
    if order is None:
        return None
    current = attempts.current_attempt(order=order)
    if current is None:
        return None  # still being made (another tab's click)
    try:
        return _resumed(method, order=order, attempt=current)
    except CheckoutConflict:
        return None  # that one was paid (and is recorded now): this is a new purchase


def _buy(
    *, item: Item, visitor: Visitor, method: PaymentMethod, pages: ReturnPages, quantity: int
) -> Started:
    account = ensure_configured(item.currency).account
    # Created already pending, in its first attempt, in one transaction, and its lines handed on
    # rather than read back: the Buy click is the shop's busiest write. Its rows are written
    # together with its stock's UPDATE (one statement on PostgreSQL; kassa.common.inserts),
    # which commits too: the item's row is not held while this thread waits for its turn.
    with transaction.atomic():
        rows = Together(ends_transaction=True)
        order, lines = order_cart.order_create_for_item(
            item=item, visitor=visitor, rows=rows, quantity=quantity
        )
        attempt = attempts.attempt_begin_new_order(
            order=order, kind=method.kind, account=account, rows=rows
        )
        gift_cards.none_held(order)
        # Last before the commit: from here the item's row is locked, and a flash sale's
        # buyers all wait for it, so nothing else is written while it is held.
        stock.reserve(order=order, lines=lines, rows=rows)
    try:
        made = method.create(order=order, attempt=attempt.number, lines=lines, pages=pages)
    except PaymentError as exc:
        # The order existed only for this payment; leave nothing half-written behind.
        attempts.attempt_discard_new_order(attempt=attempt, source=f"{method.label} failed")
        metrics.checkout_failed(currency=order.currency, kind=method.kind, error=exc)
        raise
    return _attach(order=order, attempt=attempt, made=made)


def _attach(*, order: Order, attempt: PaymentAttempt, made: Made) -> Started:
    remote = made.remote
    if not attempts.attempt_attach(
        attempt=attempt,
        stripe_id=remote.stripe_id,
        amount=made.goods,
        payment_intent_id=remote.payment_intent_id,
    ):
        # A newer attempt for this order began while ours was being made: ours must not stay
        # payable next to it.
        logger.info(
            "order %s attempt %s superseded; closing %s", order.pk, attempt.number, remote.stripe_id
        )
        _close(order=order, attempt=attempt)
        raise CheckoutSuperseded(
            _("A newer checkout for this order was started in another window.")
        )
    metrics.checkout_started(currency=order.currency, kind=attempt.kind)
    return Started(
        order=order,
        attempt=attempt,
        amount=remote.amount,
        url=remote.url,
        client_secret=remote.client_secret,
    )


def _resumed(method: PaymentMethod, *, order: Order, attempt: PaymentAttempt) -> Started | None:
    """The attempt, answered again, if its kind can go on with its object as it is. Raises
    CheckoutConflict if the customer paid through it already (the order is marked paid here, in
    case the webhook is late) or a payment through it is being processed."""
    remote = method.resume(order=order, attempt=attempt)
    if remote is None:
        return None
    _refuse_if_settled(remote)
    if remote.state is not RemoteState.OPEN or not (remote.url or remote.client_secret):
        return None
    return Started(
        order=order,
        attempt=attempt,
        amount=remote.amount,
        url=remote.url,
        client_secret=remote.client_secret,
    )


def _keep(
    *,
    order: Order,
    method: PaymentMethod,
    attempt: PaymentAttempt,
    lines: list[OrderLine],
    kept: tuple[PaymentAttempt, Remote],
) -> Started:
    earlier, remote = kept
    goods = order_totals(order, lines, shipping=0).total - gift_cards.paid_by_cards(order)
    # Recorded before the amount changes at Stripe, so a payment of the new amount finds its
    # attempt however soon it arrives.
    if not attempts.attempt_attach(
        attempt=attempt,
        stripe_id=remote.stripe_id,
        amount=goods,
        payment_intent_id=remote.payment_intent_id,
    ):
        # The newer attempt found this same object on the order and decides what becomes of it.
        raise CheckoutSuperseded(_("A newer payment for this order was started in another window."))
    try:
        remote = method.bring_up_to_date(
            order=order, attempt=attempt.number, remote=remote, goods=goods, lines=lines
        )
    except PaymentError:
        # The order keeps the object it had, at its amount: still its one payable attempt.
        attempts.attempt_fail(attempt=attempt, source=f"{method.label} amount not updated")
        raise
    attempts.attempt_close(
        attempt=earlier, source=f"{method.label} kept", note=f"kept as attempt {attempt.number}"
    )
    return Started(
        order=order,
        attempt=attempt,
        amount=remote.amount,
        url=remote.url,
        client_secret=remote.client_secret,
    )


def _close(*, order: Order, attempt: PaymentAttempt) -> None:
    """Make sure `attempt`'s Stripe object can no longer be paid. Raises CheckoutConflict if the
    customer paid through it (the order is marked paid here, in case the webhook is late) or a
    payment through it is being processed."""
    try:
        remote = method_for(attempt.kind).close(
            currency=order.currency, stripe_id=attempt.stripe_id
        )
    except StripeObjectMissing:
        # Stripe no longer knows it (made in an account whose keys changed since): nobody can
        # pay through it, which is all closing asks.
        logger.warning(
            "order %s attempt %s: %s is gone from Stripe",
            order.pk,
            attempt.number,
            attempt.stripe_id,
        )
        return
    _refuse_if_settled(remote)


def _refuse_if_settled(remote: Remote) -> None:
    """Money moved through `remote` (recorded now, in case the webhook is late) or is moving:
    the order cannot be paid again, so the customer is told (CheckoutConflict)."""
    refuse_while_moving(remote)
    if remote.state is RemoteState.PAID:
        label = method_for(remote.kind).label
        fulfil(remote, source=f"{label} {remote.stripe_id} found paid")
        raise CheckoutConflict(
            _("This order has already been paid. It will show as paid in a moment.")
        )
