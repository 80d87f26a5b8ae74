"""The ledger: every change of a card's balance a row, the balance their sum and never below
zero, whatever order issue, hold, spend, release, refund and staff adjustments come in."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from pytest_django.fixtures import Settings as SettingsWrapper

from kassa.giftcards import codes, ledger
from kassa.giftcards.errors import InsufficientBalance
from kassa.giftcards.models import GiftCard, GiftCardEntry
from kassa.giftcards.paying import allocate
from kassa.orders.models import Order

pytestmark = pytest.mark.django_db


def test_a_code_is_long_random_and_recognised_however_it_is_typed() -> None:
    code = codes.new_code()
    assert len(codes.normalised(code)) == len("GIFT") + 20
    assert codes.looks_like_gift_card(code)
    assert codes.looks_like_gift_card(code.lower().replace("-", " "))
    assert codes.code_hash(code.lower()) == codes.code_hash(code)
    assert not codes.looks_like_gift_card("SUMMER10")
    assert not codes.looks_like_gift_card("GIFT-1234")
    assert code != codes.new_code()


def test_the_code_is_never_stored_only_its_hash_and_last_characters() -> None:
    card, code = ledger.issue(amount=5000, currency="usd")
    stored = GiftCard.objects.filter(pk=card.pk).values().get()
    assert code not in str(stored)
    assert codes.normalised(code) not in str(stored)
    assert stored["last4"] == codes.normalised(code)[-4:]
    assert stored["code_hash"] == codes.code_hash(code)


def test_a_balance_never_goes_below_zero_even_past_the_service() -> None:
    card, _code = ledger.issue(amount=1000, currency="usd")
    with pytest.raises(InsufficientBalance):
        ledger.adjust(card_id=card.pk, amount=-1001, note="typo", by="staff")
    # The database refuses it too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        GiftCard.objects.filter(pk=card.pk).update(balance=-1)
    card.refresh_from_db()
    assert card.balance == 1000 == ledger.ledger_sum(card)


def test_staff_adjustments_need_a_note() -> None:
    card, _code = ledger.issue(amount=1000, currency="usd")
    with pytest.raises(InsufficientBalance):
        ledger.adjust(card_id=card.pk, amount=100, note=" ", by="staff")
    entry = ledger.adjust(card_id=card.pk, amount=250, note="goodwill", by="staff")
    assert (entry.kind, entry.amount, entry.balance_after, entry.by) == (
        "adjusted",
        250,
        1250,
        "staff",
    )


def test_cards_expire_only_when_the_shop_says(settings: SettingsWrapper) -> None:
    now = datetime(2026, 1, 31, 12, tzinfo=UTC)
    settings.SHOP_GIFT_CARD_MONTHS = None
    assert ledger.expiry_from(now) is None
    settings.SHOP_GIFT_CARD_MONTHS = 1
    assert ledger.expiry_from(now) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    settings.SHOP_GIFT_CARD_MONTHS = 24
    assert ledger.expiry_from(now) == datetime(2028, 1, 31, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("total", "balances", "ships", "parts"),
    [
        (3000, [5000], False, [3000]),  # the card pays all
        (7000, [3000], False, [3000]),  # Stripe the rest
        (3020, [3000], False, [2970]),  # 0.20 left: Stripe's 0.50 minimum is kept
        (3000, [1000, 5000], False, [1000, 2000]),  # the first applied first
        (3000, [5000], True, [2950]),  # goods to send: Checkout collects address and shipping
        (40, [5000], False, [40]),  # all of a small order
    ],
)
def test_what_cards_pay(total: int, balances: list[int], ships: bool, parts: list[int]) -> None:
    assert allocate(total=total, balances=balances, currency="usd", ships=ships) == parts


def test_goods_to_send_leave_checkout_something_where_stripes_minimum_is_unknown() -> None:
    # RUB has no minimum the shop knows: Checkout still gets a kopek to collect the address.
    assert allocate(total=300000, balances=[500000], currency="rub", ships=True) == [299999]
    assert allocate(total=300000, balances=[500000], currency="rub", ships=False) == [300000]


class LedgerMachine(RuleBasedStateMachine):
    """Issue, hold for orders, spend or release the holds, refund what was spent, adjust: the
    kept balance is always the ledger's sum, never below zero, and equals the model's."""

    def __init__(self) -> None:
        super().__init__()
        # Each run in a savepoint of the test's transaction, rolled back at its end.
        self._run = transaction.atomic()
        self._run.__enter__()
        self.card, _code = ledger.issue(amount=5000, currency="usd")
        self.expected = 5000
        self.orders: list[Order] = []
        self.held: dict[int, int] = {}
        self.spent: dict[int, int] = {}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._run.__exit__(None, None, None)

    def _new_order(self) -> Order:
        order = Order.objects.create(currency="usd")
        self.orders.append(order)
        return order

    @rule(amount=st.integers(min_value=1, max_value=8000))
    def hold(self, amount: int) -> None:
        order = self._new_order()
        with transaction.atomic():
            [card] = ledger.lock([self.card.pk])
            if amount > self.expected:
                with pytest.raises(InsufficientBalance):
                    ledger.hold(card, amount=amount, order=order)
                return
            ledger.hold(card, amount=amount, order=order)
        self.held[order.pk] = amount
        self.expected -= amount

    @rule(data=st.data())
    def spend(self, data: st.DataObject) -> None:
        if not self.held:
            return
        order_id = data.draw(st.sampled_from(sorted(self.held)))
        ledger.spend_held(order=Order.objects.get(pk=order_id))
        self.spent[order_id] = self.held.pop(order_id)

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        if not self.held:
            return
        order_id = data.draw(st.sampled_from(sorted(self.held)))
        ledger.release(order=Order.objects.get(pk=order_id))
        self.expected += self.held.pop(order_id)

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        if not self.spent:
            return
        order_id = data.draw(st.sampled_from(sorted(self.spent)))
        back = ledger.refund(order=Order.objects.get(pk=order_id), by="staff")
        assert back == self.spent.pop(order_id)
        self.expected += back

    @rule(amount=st.integers(min_value=-6000, max_value=6000))
    def adjust(self, amount: int) -> None:
        if amount == 0:
            return
        if self.expected + amount < 0:
            with pytest.raises(InsufficientBalance):
                ledger.adjust(card_id=self.card.pk, amount=amount, note="n", by="s")
            return
        ledger.adjust(card_id=self.card.pk, amount=amount, note="count", by="staff")
        self.expected += amount

    @invariant()
    def balance_is_the_ledgers_sum_and_never_negative(self) -> None:
        self.card.refresh_from_db()
        assert self.card.balance == self.expected == ledger.ledger_sum(self.card)
        assert self.card.balance >= 0
        assert not GiftCardEntry.objects.filter(card=self.card, balance_after__lt=0).exists()
        for order_id, amount in self.held.items():
            assert ledger.held_by(Order(pk=order_id)) == amount


def test_the_ledger_holds_whatever_happens() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=hypothesis_settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
