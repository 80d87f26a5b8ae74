"""What every payment kind offers the rest of payments, as Django's session backends do for
sessions: one module per kind (`checkout_session`, `payment_intent`) implements `PaymentMethod`,
and nothing outside those modules compares kinds or reads a Stripe status.

A kind's Stripe object is seen through `Remote`, whose `state` is one of four:

- `open`: a customer can still pay through it;
- `moving`: a payment through it is being processed (it can be neither closed nor replaced);
- `paid`: money moved through it (`amount`, `currency`, `buyer` say what and who);
- `closed`: nobody can pay through it any more (expired, cancelled, failed).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext as _

from kassa.orders.charge import ChargeDetails
from kassa.orders.models import Order, OrderLine
from kassa.payments.errors import CheckoutConflict
from kassa.stripe_api.results import Buyer

if TYPE_CHECKING:
    from kassa.payments.models import PaymentAttempt


class RemoteState(StrEnum):
    OPEN = "open"
    MOVING = "moving"
    PAID = "paid"
    CLOSED = "closed"


@dataclass(frozen=True)
class Remote:
    """An attempt's Stripe object as Stripe has it now."""

    kind: str
    stripe_id: str
    state: RemoteState
    amount: int  # what it charges (or charged): the goods and the shipping, in minor units
    currency: str  # lower case, as Stripe writes it
    # What fulfilment records when it is paid.
    payment_intent_id: str = ""
    claimed_order: str = ""  # the order its metadata names: a claim, never proof
    buyer: Buyer = field(default_factory=Buyer)
    # What the customer is sent to, or the page needs, to pay it while it is open.
    url: str = ""
    client_secret: str = ""
    shipping: int = 0  # the part of `amount` that is shipping, as far as Stripe says yet
    # The customer's last try to pay was declined (they may try again while it is open).
    declined: bool = False
    note: str = ""  # what closed it, for the attempt's record
    # Tax Stripe Tax added on top of the goods (exclusive prices; shipping's own tax is part of
    # `shipping`): `amount - shipping - tax_added` is what the attempt asked for.
    tax_added: int = 0
    # The Stripe Tax calculation the object's amount holds, when the shop asked for one itself
    # (the card page): its sale is recorded with Stripe Tax once paid (kassa.payments.tax_records).
    tax_calculation: str = ""
    # Made to be charged with Stripe Tax, but its amount holds no calculation: paid, it was paid
    # without the tax, which is not what the shop asked (kept as an unmatched payment).
    tax_missing: bool = False
    # What the order records of the payment beside its amount (tax, presentment, business).
    details: ChargeDetails = field(default_factory=ChargeDetails)
    # Closed unpaid by a customer who agreed to hear from the shop: where a reminder may go.
    recovery_email: str = ""


@dataclass(frozen=True)
class ReturnPages:
    """The shop's absolute addresses Stripe sends the customer back to."""

    success: str
    cancel: str


@dataclass(frozen=True)
class Made:
    """A new Stripe object for an attempt."""

    remote: Remote
    # What the attempt asks: the goods. The customer chooses the shipping, which comes on top
    # (fulfilment checks a payment against the goods plus the shipping Stripe reports).
    goods: int


EventReader = Callable[[dict[str, Any]], Remote]


class PaymentMethod:
    """One payment kind. Subclasses set `kind`, `label`, `return_parameter` and `events`, and
    implement `create`, `retrieve` and `close`; the rest has defaults that suit a kind whose
    object is made afresh for each attempt."""

    kind: ClassVar[str]
    label: ClassVar[str]  # for logs and notes: "checkout", "payment intent"
    # How the customer paid, as their invoice says it (translated when shown).
    payment_description: ClassVar[Any]
    # The query parameter carrying the object's id when Stripe sends the customer back.
    return_parameter: ClassVar[str]
    # Stripe's events about this kind's objects, each read into a Remote.
    events: ClassVar[dict[str, EventReader]]
    # Stripe closes an unpaid object by itself by the time its stock reservation lapses (so
    # reconciliation need not close it for that).
    expires_itself: ClassVar[bool] = False
    # An open object is answered again, as it is, to a customer who starts the same payment
    # again (`resume`); otherwise each start is a new attempt (which may `keep` the object).
    answers_again: ClassVar[bool] = False

    def check_payable(self, order: Order) -> None:
        """Refuse an order this kind cannot take payment for (CheckoutConflict)."""

    def create(
        self, *, order: Order, attempt: int, lines: list[OrderLine], pages: ReturnPages
    ) -> Made:
        """A new object for the order's attempt number `attempt`, asking for `lines`."""
        raise NotImplementedError

    def retrieve(self, *, currency: str, stripe_id: str) -> Remote:
        raise NotImplementedError

    def close(self, *, currency: str, stripe_id: str) -> Remote:
        """Make sure nobody can pay through the object any more, and answer it as it is then:
        `paid` if the customer paid first, `moving` (left as it is) if a payment is being
        processed."""
        raise NotImplementedError

    def resume(self, *, order: Order, attempt: "PaymentAttempt") -> Remote | None:
        """The attempt's object, if it is of this kind and a customer can go on paying through
        it as it is (a reload, a second tab, a Buy link clicked again)."""
        return None

    def keep(self, *, order: Order, earlier: "PaymentAttempt") -> Remote | None:
        """An earlier attempt's object that a new attempt of this kind may take over (at an
        updated amount) rather than close; None to close it."""
        return None

    def bring_up_to_date(
        self, *, order: Order, attempt: int, remote: Remote, goods: int, lines: list[OrderLine]
    ) -> Remote:
        """A kept object, asking for `goods` now (only for kinds whose `keep` keeps any)."""
        raise NotImplementedError

    def recorded_as(self, remote: Remote) -> Remote | None:
        """The report under which a paid object's payment is recorded: itself, another kind's
        object it was made for, or None if that one records it."""
        return remote

    def lost(self, attempt: "PaymentAttempt", *, gap: float = 0.0) -> list[Remote]:
        """Objects Stripe made for the attempt whose answer never reached the shop (`gap`: the
        seconds to wait between two calls to Stripe, if it takes several)."""
        return []


def refuse_while_moving(remote: Remote) -> None:
    """A payment being processed is neither kept nor replaced: the customer waits for it."""
    if remote.state is RemoteState.MOVING:
        raise CheckoutConflict(
            _("A payment for this order is being processed. Please wait a moment.")
        )
