"""The Checkout Session kind: an order paid on Stripe's own page. What the session asks Stripe to
charge, and the session's life as a `PaymentMethod` (kassa.payments.methods.base).

A session is made afresh for each attempt, answered again while it is open (a reload, a second
tab), and expires by itself at `expires_at`, when the order's reserved units go back on sale.
"""

import logging
import time
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from kassa.catalog import images
from kassa.giftcards import paying as gift_cards
from kassa.orders import discount_rules
from kassa.orders.charge import ChargeDetails, TaxShare
from kassa.orders.checkout_defaults import offered
from kassa.orders.models import Order, OrderLine
from kassa.orders.models.adjustments import percent
from kassa.orders.pricing import LineTotal, Totals, order_totals
from kassa.orders.shipping import needs_shipping
from kassa.orders.tax_mode import prices_include_tax, stripe_computes_tax, tax_code
from kassa.payments.buyer import known_email
from kassa.payments.methods.base import (
    Made,
    PaymentMethod,
    Remote,
    RemoteState,
    ReturnPages,
)
from kassa.payments.models import PaymentAttempt
from kassa.payments.stripe_objects import (
    ensure_coupon,
    ensure_product,
    ensure_shipping_rates,
    ensure_tax_rate,
)
from kassa.stripe_api import checkout_sessions, results
from kassa.stripe_api.client import longest_call
from kassa.stripe_api.errors import PaymentError, StripeObjectMissing
from kassa.stripe_api.params import (
    SessionCreateParams,
    SessionCreateParamsLineItem,
    SessionCreateParamsLineItemPriceData,
    SessionCreateParamsLineItemPriceDataProductData,
)
from kassa.stripe_api.results import CheckoutSession

logger = logging.getLogger(__name__)
_CANCEL_SALT = "kassa.payments.cancel"


def cancel_token(*, order_id: int, attempt: int) -> str:
    """What proves a cancel link was made by the shop for this attempt of this order. The same
    for every retry of the session's creation, which Stripe's idempotency key requires."""
    return signing.Signer(salt=_CANCEL_SALT).signature(f"{order_id}:{attempt}")


def is_cancel_token(token: str, *, order_id: int, attempt: int) -> bool:
    return constant_time_compare(token, cancel_token(order_id=order_id, attempt=attempt))


def checkout_locale() -> str:
    """The page's language as Stripe names it (every language the shop offers, Stripe has)."""
    return (get_language() or "auto").split("-")[0]


def _product_data(
    line: OrderLine, promotion: str = ""
) -> SessionCreateParamsLineItemPriceDataProductData:
    """The line's product as Checkout shows it: its name, and its picture when the internet can
    reach it (SHOP_PUBLIC_URL set: Stripe fetches the image itself); with Stripe Tax, its tax
    code; under its name, the automatic discount its price is lowered by."""
    data: SessionCreateParamsLineItemPriceDataProductData = {"name": line.item.name}
    if promotion:
        data["description"] = promotion
    if stripe_computes_tax():
        data["tax_code"] = tax_code(line.item)
    image = images.public_url(line.item.large_image.name or "")
    if image:
        data["images"] = [image]
    return data


# Stripe accepts an expires_at from 30 minutes to 24 hours after it creates the session: a
# little inside both ends, so our clock or a slow request cannot push it outside.
_EXPIRY_MARGIN_SECONDS = 60


def session_expires_at() -> int:
    """When a session made now expires, and its order's units go back on sale (the
    checkout.session.expired event): CHECKOUT_RESERVATION_MINUTES from now."""
    seconds = settings.CHECKOUT_RESERVATION_MINUTES * 60
    seconds = min(
        max(seconds, 30 * 60 + _EXPIRY_MARGIN_SECONDS), 24 * 3600 - _EXPIRY_MARGIN_SECONDS
    )
    return int(time.time()) + seconds


def checkout_params(
    *,
    order: Order,
    attempt: int,
    lines: list[OrderLine],
    pages: ReturnPages,
    coupon_id: str | None,
    tax_rate_id: str | None,
    shipping_rate_ids: list[str] | None = None,
    totals: Totals | None = None,
    products: dict[int, str] | None = None,
) -> SessionCreateParams:
    """The Checkout Session for `order`'s attempt, built only from what the database says:
    each line at the price the shop charges it (after an automatic discount), naming the
    Stripe product in `products` (by line id) where a coupon limited to it must find it."""
    order_ref = str(order.pk)
    totals = totals or order_totals(order, lines, shipping=0)
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            _line_item(order, part, tax_rate_id, (products or {}).get(part.line.pk, ""), totals)
            for part in totals.lines
        ],
        # For people reading the Dashboard: payments are matched to orders by the session's id.
        "client_reference_id": order_ref,
        "metadata": {"order_id": order_ref},
        "payment_intent_data": {"metadata": {"order_id": order_ref}},
        # Stripe fills in {CHECKOUT_SESSION_ID}; it must reach Stripe unescaped.
        "success_url": f"{pages.success}?session_id={{CHECKOUT_SESSION_ID}}",
        # The attempt number lets an old tab's cancel link leave a newer attempt alone; the token
        # lets only this link cancel it (not a link made up on another site).
        "cancel_url": (
            f"{pages.cancel}?order={order_ref}&attempt={attempt}"
            f"&token={cancel_token(order_id=order.pk, attempt=attempt)}"
        ),
        # Checkout speaks the language the customer was shopping in.
        "locale": checkout_locale(),
        # The order's units are held until then (kassa.orders.stock).
        "expires_at": session_expires_at(),
    }
    if coupon_id:
        params["discounts"] = [{"coupon": coupon_id}]
    if stripe_computes_tax():
        # Stripe works out the tax from the address Checkout collects; never beside manual
        # tax rates (checkout_params is given none).
        params["automatic_tax"] = {"enabled": True}
    if settings.SHOP_ADAPTIVE_PRICING:
        # Checkout shows the price in the buyer's local currency; the shop settles in its own.
        params["adaptive_pricing"] = {"enabled": True}
    # A business buyer gives a company name and tax id, for their invoice.
    params["tax_id_collection"] = {"enabled": True}
    # Whether the customer agrees to hear from the shop: only then does an unpaid checkout get
    # its one reminder.
    params["consent_collection"] = {"promotions": "auto"}
    _collect_customer(params, order=order, lines=lines, shipping_rate_ids=shipping_rate_ids or [])
    return params


def _line_item(
    order: Order, part: LineTotal, tax_rate_id: str | None, product: str, totals: Totals
) -> SessionCreateParamsLineItem:
    """One line as Checkout charges it: its price and product, and either the staff's tax rate
    or (Stripe Tax) whether the price includes tax (SHOP_PRICES_INCLUDE_TAX)."""
    line = part.line
    price_data: SessionCreateParamsLineItemPriceData = {
        "currency": order.currency,
        "unit_amount": part.unit_amount,
    }
    if product:
        price_data["product"] = product
    else:
        price_data["product_data"] = _product_data(line, promotion_note(part, totals))
    if stripe_computes_tax():
        price_data["tax_behavior"] = (
            "inclusive" if prices_include_tax(order.currency) else "exclusive"
        )
    item: SessionCreateParamsLineItem = {"price_data": price_data, "quantity": line.quantity}
    if tax_rate_id:
        item["tax_rates"] = [tax_rate_id]
    return item


def after_gift_cards(
    params: SessionCreateParams,
    *,
    order: Order,
    lines: list[OrderLine],
    cards: list[gift_cards.Applied],
) -> None:
    """Gift cards paid part of the order: Checkout is asked for exactly the rest, as one line.

    A gift card is a payment, not a discount, so Checkout cannot be told of it as a coupon:
    Stripe takes a coupon off before it computes tax, which would tax less than the full price,
    and a session takes one coupon (the order's discount may already be it) and no negative
    line. So the session gets one line, "Order N (after gift card ••••1234)", for the order's
    total (its discount and tax already in it, as kassa.orders.pricing computed them) less what
    the cards pay, with no coupon and no tax rate on top: Stripe charges total − cards to the
    minor unit. The shipping the customer chooses in Checkout comes on top, as for any order.
    What the customer loses is the itemised list on Stripe's page; the shop's own pages, mails
    and invoice still itemise the order, with the cards' part shown.
    """
    paid = sum(part.amount for part in cards)
    total = order_totals(order, lines, shipping=0).total
    names = ", ".join(f"••••{part.card.last4}" for part in cards)
    params["line_items"] = [
        {
            "price_data": {
                "currency": order.currency,
                "unit_amount": total - paid,
                "product_data": {
                    "name": _("Order %(number)s (after gift card %(cards)s)")
                    % {"number": order.pk, "cards": names}
                },
            },
            "quantity": 1,
        }
    ]
    params.pop("discounts", None)  # none is made, but never one on top of the rest


def promotion_note(part: LineTotal, totals: Totals) -> str:
    """What Checkout says under a line whose price an automatic discount lowered."""
    if not part.promotion or totals.promotion is None:
        return ""
    return (
        f"{totals.promotion.name[:100]} (−{percent(totals.promotion.percent_off)}%)"
        if (totals.promotion.percent_off is not None)
        else totals.promotion.name[:100]
    )


def _coupon(order: Order, totals: Totals) -> tuple[str | None, dict[int, str]]:
    """The coupon of the order's code, if it takes money off, and the Stripe products of the
    lines it is limited to (by line id): Checkout takes one coupon, and a coupon limited to
    some lines names their products in its `applies_to`."""
    code = totals.code
    if code is None or code.is_free_shipping:
        return None, {}
    if discount_rules.scope(code) is None:
        return ensure_coupon(discount=code, currency=order.currency), {}
    products = {
        part.line.pk: ensure_product(
            item=part.line.item,
            params=dict(_product_data(part.line, promotion_note(part, totals))),  # type: ignore[arg-type]
            currency=order.currency,
        )
        for part in totals.lines
        if discount_rules.covers(code, part.line.item)
    }
    coupon = ensure_coupon(
        discount=code, currency=order.currency, products=sorted(set(products.values()))
    )
    return coupon, products


def _collect_customer(
    params: SessionCreateParams,
    *,
    order: Order,
    lines: list[OrderLine],
    shipping_rate_ids: list[str],
) -> None:
    """What Checkout asks the customer for: their e-mail always (Checkout does unless given
    one), the phone if the shop wants it, an address and a shipping choice if goods are sent."""
    email = known_email(order)
    if email:
        params["customer_email"] = email
    if settings.SHOP_COLLECT_PHONE:
        params["phone_number_collection"] = {"enabled": True}
    if needs_shipping(lines):
        params["shipping_address_collection"] = {
            "allowed_countries": settings.SHOP_SHIPPING_COUNTRIES
        }
        if shipping_rate_ids:
            params["shipping_options"] = [{"shipping_rate": rate} for rate in shipping_rate_ids]
    elif stripe_computes_tax():
        # Stripe Tax needs the buyer's address: the billing one when nothing is shipped.
        params["billing_address_collection"] = "required"


def shipping_rate_ids(*, order: Order, lines: list[OrderLine]) -> list[str]:
    """The Stripe shipping rates the order is offered, made once per account and terms."""
    totals = order_totals(order, lines, shipping=0)
    options = offered(
        order=order, lines=lines, goods=totals.total, free_shipping=totals.free_shipping
    )
    return ensure_shipping_rates(options=options, currency=order.currency)


# Pages of Stripe's session list read to find one lost answer (100 sessions each).
LOST_SESSION_PAGES = 5


def remote_of(session: CheckoutSession, *, closed_note: str = "") -> Remote:
    """The session as the payment kinds see it. `closed_note` reads it as closed whatever its
    status (an event saying its asynchronous payment failed)."""
    if closed_note:
        state, note = RemoteState.CLOSED, closed_note
    elif session.status == "open":
        state, note = RemoteState.OPEN, ""
    elif session.status == "complete" and session.payment_status in (
        "paid",
        "no_payment_required",
    ):
        state, note = RemoteState.PAID, ""
    elif session.status == "complete":
        # An asynchronous payment method (a bank debit) still processing.
        state, note = RemoteState.MOVING, ""
    else:
        state, note = RemoteState.CLOSED, "session expired"
    shipping = session.buyer.shipping_amount or session.amount_shipping
    tax_added = 0
    if session.automatic_tax:
        # What the shop asked for the goods is Stripe's subtotal less the discount; whatever
        # else the total holds beyond the shipping is tax Stripe added on top.
        tax_added = (
            session.amount_total - shipping - (session.amount_subtotal - session.amount_discount)
        )
    return Remote(
        kind=PaymentAttempt.Kind.CHECKOUT_SESSION,
        stripe_id=session.id,
        state=state,
        amount=session.amount_total,
        currency=session.currency,
        payment_intent_id=session.payment_intent,
        claimed_order=session.order_id or session.client_reference_id,
        buyer=session.buyer,
        url=session.url if state is RemoteState.OPEN else "",
        shipping=session.amount_shipping,
        note=note,
        tax_added=max(tax_added, 0),
        details=_details(session, shipping=shipping),
        recovery_email=(
            session.buyer.contact.email
            if session.status == "expired" and session.promotions_consent
            else ""
        ),
    )


def _details(session: CheckoutSession, *, shipping: int) -> ChargeDetails:
    """What the order records of a session beside its amount."""
    # Tax added on top of the prices changes the total; tax included in them does not.
    charged_without_tax = session.amount_subtotal - session.amount_discount + shipping
    return ChargeDetails(
        tax_by_stripe=session.automatic_tax,
        tax_amount=session.amount_tax if session.automatic_tax else 0,
        tax_inclusive=session.automatic_tax
        and session.amount_tax > 0
        and session.amount_total == charged_without_tax,
        tax_shares=tuple(
            TaxShare(name=part.name, rate=part.rate, amount=part.amount, inclusive=part.inclusive)
            for part in session.tax_parts
        ),
        presentment_currency=(
            session.presentment_currency if session.presentment_currency != session.currency else ""
        ),
        presentment_amount=(
            session.presentment_amount
            if session.presentment_currency and session.presentment_currency != session.currency
            else None
        ),
        company=session.buyer.company,
        tax_id=session.buyer.tax_id,
    )


def _from_event(data: dict[str, Any]) -> Remote:
    return remote_of(results.checkout_session(data))


def _failed_from_event(data: dict[str, Any]) -> Remote:
    return remote_of(results.checkout_session(data), closed_note="payment failed")


class CheckoutSessionMethod(PaymentMethod):
    kind = PaymentAttempt.Kind.CHECKOUT_SESSION
    label = "checkout"
    payment_description = gettext_lazy("Stripe Checkout")
    return_parameter = "session_id"
    expires_itself = True
    answers_again = True
    events = {
        # A completed session with an asynchronous payment method is not paid yet: `moving`.
        "checkout.session.completed": _from_event,
        "checkout.session.async_payment_succeeded": _from_event,
        "checkout.session.async_payment_failed": _failed_from_event,
        "checkout.session.expired": _from_event,
    }

    def create(
        self, *, order: Order, attempt: int, lines: list[OrderLine], pages: ReturnPages
    ) -> Made:
        """The session of `order`'s attempt number `attempt` (one Stripe call once the order's
        coupon, tax rate and shipping rates exist)."""
        by_cards = [part for part in gift_cards.held_for_attempt(order, lines) if part.amount]
        totals = order_totals(order, lines, shipping=0)
        # With gift cards, the session is one line of what is left (after_gift_cards): the
        # order's coupon and tax rate are not made for it.
        coupon_id, products = (None, {}) if by_cards else _coupon(order, totals)
        manual_tax = order.tax if not stripe_computes_tax() and not by_cards else None
        tax_rate_id = (
            ensure_tax_rate(tax=manual_tax, currency=order.currency) if manual_tax else None
        )
        params = checkout_params(
            order=order,
            attempt=attempt,
            lines=lines,
            pages=pages,
            coupon_id=coupon_id,
            tax_rate_id=tax_rate_id,
            shipping_rate_ids=shipping_rate_ids(order=order, lines=lines),
            totals=totals,
            products=products,
        )
        if by_cards:
            after_gift_cards(params, order=order, lines=lines, cards=by_cards)
        session = checkout_sessions.create_session(
            currency=order.currency,
            params=params,
            idempotency_key=f"kassa-checkout-{order.pk}-{attempt}",
        )
        remote = remote_of(session)
        # An open session is priced with its first shipping option until the customer chooses
        # (and, with Stripe Tax, without tax until they give their address).
        return Made(remote=remote, goods=remote.amount - remote.shipping - remote.tax_added)

    def retrieve(self, *, currency: str, stripe_id: str) -> Remote:
        return remote_of(
            checkout_sessions.retrieve_session(currency=currency, session_id=stripe_id)
        )

    def recorded_as(self, remote: Remote) -> Remote | None:
        """A paid session whose tax Stripe computed is recorded with the tax per rate, which
        only a retrieval that asks for it carries (not a webhook event's object)."""
        if not remote.details.tax_by_stripe or remote.details.tax_shares:
            return remote
        try:
            return self.retrieve(currency=remote.currency, stripe_id=remote.stripe_id)
        except PaymentError:
            logger.warning("%s: its tax per rate could not be read now", remote.stripe_id)
            return remote  # recorded with the tax's total: the money wins

    def close(self, *, currency: str, stripe_id: str) -> Remote:
        """Expire the session if it is still open."""
        remote = self.retrieve(currency=currency, stripe_id=stripe_id)
        if remote.state is RemoteState.OPEN:
            expired = checkout_sessions.expire_session(currency=currency, session_id=stripe_id)
            remote = remote_of(expired)
        return remote

    def resume(self, *, order: Order, attempt: PaymentAttempt) -> Remote | None:
        """Answering the open session again makes the Buy link safe to repeat: a second tab, a
        reload or a link from another site finds the session the customer may be paying
        through, rather than expiring it under them. Its lines cannot have changed: an order
        in payment is frozen."""
        if attempt.kind != self.kind or not attempt.stripe_id:
            return None
        try:
            return self.retrieve(currency=order.currency, stripe_id=attempt.stripe_id)
        except StripeObjectMissing:
            return None  # a new attempt closes it

    def lost(self, attempt: PaymentAttempt, *, gap: float = 0.0) -> list[Remote]:
        """The sessions naming the attempt's order, made while its request could have been
        waiting on Stripe, that none of the order's attempts recorded. Only the lost answer
        carried a session's address, so nobody can have paid through one unless it is found."""
        order = attempt.order
        known = set(
            PaymentAttempt.objects.filter(order=order)
            .exclude(stripe_id="")
            .values_list("stripe_id", flat=True)
        )
        since = int(attempt.opened_at.timestamp()) - 5  # clocks a little apart
        until = int((attempt.opened_at + longest_call()).timestamp())
        found: list[Remote] = []
        after = ""
        for _page in range(LOST_SESSION_PAGES):
            page = checkout_sessions.sessions_created(
                currency=order.currency, since=since, until=until, starting_after=after
            )
            found += [
                remote_of(session)
                for session in page.sessions
                if session.order_id == str(order.pk) and session.id not in known
            ]
            if not page.has_more or not page.sessions:
                break
            after = page.sessions[-1].id
            time.sleep(gap)
        return found


METHOD = CheckoutSessionMethod()
