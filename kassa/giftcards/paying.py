"""Gift cards as a way to pay: applied in the cart, held when a payment begins, and the part of
the order they pay, which Stripe then does not charge.

A card is a payment, not a discount: the order's totals (its tax on the full price included)
are unchanged; the cards pay first, up to the goods' total, and Stripe is asked for the rest
(kassa.payments.methods). Two rules keep Stripe able to take that rest:
- what Stripe is left to charge is nothing or at least its minimum charge in the currency (a
  card pays a little less rather than leave 0.20 for Stripe to refuse);
- an order with goods to send leaves at least the minimum to Stripe (or, in a currency whose
  minimum the shop does not know, one unit Stripe charges), whose Checkout collects the address
  and the shipping choice: cards alone never pay for goods to send.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kassa.common.money import THREE_DECIMAL, minimum_charge
from kassa.giftcards import codes, ledger
from kassa.giftcards.errors import GiftCardBalanceChanged, GiftCardNotUsable
from kassa.giftcards.models import GiftCard, GiftCardUse
from kassa.orders.errors import OrderNotEditable
from kassa.orders.models import Order, OrderLine
from kassa.orders.pricing import order_totals
from kassa.orders.shipping import needs_shipping
from kassa.orders.tax_mode import stripe_computes_tax

_STEP = dict.fromkeys(THREE_DECIMAL, 10)


@dataclass(frozen=True)
class Applied:
    """A card applied to an order, and what it pays of it (minor units)."""

    use: GiftCardUse
    card: GiftCard
    amount: int


def usable(card: GiftCard, *, currency: str) -> bool:
    return (
        card.is_active
        and card.currency == currency.lower()
        and (card.expires_at is None or card.expires_at > timezone.now())
    )


def allocate(*, total: int, balances: list[int], currency: str, ships: bool) -> list[int]:
    """What each card (with these balances, in the order applied) pays of `total`."""
    least = minimum_charge(currency) or 0
    # Stripe charges three-decimal currencies (KWD, ...) in tens of the minor unit only: a card
    # pays whole tens there, so what is left for Stripe stays a sum it can charge.
    step = _STEP.get(currency.lower(), 1)
    cap = total
    if ships:
        # Something is always left for Checkout, the only place the address is asked for, also
        # where the shop does not know Stripe's minimum (Stripe checks it then).
        cap = max(total - (least or step), 0)
    parts: list[int] = []
    for balance in balances:
        part = max(min(balance, cap - sum(parts)), 0)
        parts.append(part - part % step)
    left = total - sum(parts)
    if 0 < left < least:
        # Leave Stripe its minimum: the last cards that pay give a little back.
        short = -(-(least - left) // step) * step
        for index in reversed(range(len(parts))):
            back = min(short, parts[index])
            parts[index] -= back
            short -= back
    return parts


def _lines(order: Order) -> list[OrderLine]:
    return list(order.lines.select_related("item"))


def applied(order: Order, lines: list[OrderLine] | None = None) -> list[Applied]:
    """The cards applied to `order` and what each pays: in a cart, what it would pay now; once
    a payment began, what is held for it; once paid, what it paid."""
    uses = list(order.gift_card_uses.select_related("card"))
    if not uses:
        return []
    if order.is_paid:
        paid = ledger.spent_by(order)
        return [Applied(use, use.card, paid.get(use.card_id, 0)) for use in uses]
    if order.status == Order.Status.PENDING:
        return [Applied(use, use.card, ledger.held_by(order, use.card)) for use in uses]
    lines = _lines(order) if lines is None else lines
    total = order_totals(order, lines, shipping=0).total
    balances = [
        use.card.balance if usable(use.card, currency=order.currency) else 0 for use in uses
    ]
    parts = allocate(
        total=total, balances=balances, currency=order.currency, ships=needs_shipping(lines)
    )
    return [Applied(use, use.card, part) for use, part in zip(uses, parts, strict=True)]


# What the attempt beginning in this request held, kept on the order's instance so the payment
# kind asks Stripe for the rest without reading it again (a Buy click, the busiest write, reads
# nothing of gift cards at all: none can be applied to an order made for one item).
_HELD = "_gift_cards_held"


def held_for_attempt(order: Order, lines: list[OrderLine]) -> list[Applied]:
    """The cards paying the attempt that began for `order` in this request (read from the
    database if it was not seen beginning)."""
    known = getattr(order, _HELD, None)
    return applied(order, lines) if known is None else list(known)


def none_held(order: Order) -> None:
    """`order` was made for this payment (Buy now): no gift card can be applied to it."""
    setattr(order, _HELD, [])


def paid_by_cards(order: Order) -> int:
    """What the order's cards pay of its goods (see `applied`)."""
    return sum(part.amount for part in applied(order))


@transaction.atomic
def apply_code(*, order: Order, typed: str) -> GiftCard | None:
    """Apply the gift card `typed` names to the cart. None if `typed` is not shaped like a gift
    card code (the code box then tries a discount code); GiftCardNotUsable if it is and no card
    of it can pay for this cart."""
    if not codes.looks_like_gift_card(typed):
        return None
    if not order.is_editable:
        raise OrderNotEditable(_("This order can no longer be changed."))
    card = GiftCard.objects.filter(code_hash=codes.code_hash(typed)).first()
    if card is None or not usable(card, currency=order.currency) or card.balance <= 0:
        raise GiftCardNotUsable(
            _("This gift card code is not valid, has no balance left, or is for another currency.")
        )
    if stripe_computes_tax():
        raise GiftCardNotUsable(
            _("Gift cards cannot be used while Stripe computes the tax at checkout.")
        )
    GiftCardUse.objects.get_or_create(order=order, card=card)
    return card


@transaction.atomic
def remove(*, order: Order, card_id: int | None = None) -> int:
    """Take a card (or, without `card_id`, every card) off the cart. How many went."""
    if not order.is_editable:
        raise OrderNotEditable(_("This order can no longer be changed."))
    uses = GiftCardUse.objects.filter(order=order)
    if card_id is not None:
        uses = uses.filter(card_id=card_id)
    deleted, _kinds = uses.delete()
    return deleted


def hold_for_payment(*, order: Order) -> int:
    """As a payment of `order` begins (in its transaction, the order locked): hold what its
    cards pay. A card with nothing left to pay now (another tab spent it) stops the payment,
    so the customer is never charged more than the cart said without seeing why."""
    if not transaction.get_connection().in_atomic_block:
        raise OrderNotEditable("Gift cards are held inside the transaction of the payment.")
    uses = list(GiftCardUse.objects.filter(order=order).order_by("pk"))
    if not uses:
        setattr(order, _HELD, [])
        return 0
    ledger.release(order=order, note="a new attempt")
    cards = {card.pk: card for card in ledger.lock(use.card_id for use in uses)}
    lines = _lines(order)
    total = order_totals(order, lines, shipping=0).total
    balances = []
    for use in uses:
        card = cards[use.card_id]
        if not usable(card, currency=order.currency) or card.balance <= 0:
            raise GiftCardBalanceChanged(
                _(
                    "The gift card ••••%(last4)s has nothing left to pay with. "
                    "Remove it from the cart to pay another way."
                )
                % {"last4": card.last4}
            )
        balances.append(card.balance)
    parts = allocate(
        total=total, balances=balances, currency=order.currency, ships=needs_shipping(lines)
    )
    for use, part in zip(uses, parts, strict=True):
        ledger.hold(cards[use.card_id], amount=part, order=order)
        if use.amount != part:
            use.amount = part
            use.save(update_fields=["amount"])
    setattr(
        order,
        _HELD,
        [Applied(use, cards[use.card_id], part) for use, part in zip(uses, parts, strict=True)],
    )
    return sum(parts)


def settle_paid(*, order: Order) -> None:
    """The order was paid: its holds are spent. A payment that came after its holds were given
    back (a late payment) spends what was last held, if the cards still have it; if not, staff
    are told (the customer paid Stripe less than the order, trusting the card)."""
    if ledger.held_by(order):
        ledger.spend_held(order=order)
        return
    if ledger.spent_by(order):
        return  # settled already
    for use in GiftCardUse.objects.filter(order=order, amount__gt=0):
        ledger.spend(use.card_id, amount=use.amount, order=order, note="paid after its hold")


def pays_all(*, order: Order, held: int, lines: list[OrderLine] | None = None) -> bool:
    """Whether `held` (what the cards were held for) pays all of the order's goods, so Stripe
    is not asked at all."""
    if held <= 0:
        return False
    return held >= order_totals(order, _lines(order) if lines is None else lines, shipping=0).total
