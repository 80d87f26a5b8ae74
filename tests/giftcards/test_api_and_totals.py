"""Gift cards through the API (apply, see, remove) and the sums they leave Stripe: exact, in
every currency the shop charges, and never a rest Stripe would refuse."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kassa.common.money import THREE_DECIMAL, minimum_charge
from kassa.giftcards import ledger
from kassa.giftcards.paying import allocate
from tests.api.test_api import Api, api, usd
from tests.factories import ItemFactory

__all__ = ["api"]
pytestmark = pytest.mark.django_db


def test_a_gift_card_applied_shown_and_removed_through_the_api(api: Api) -> None:
    item = ItemFactory.create(name="Mug", price=Decimal("40.00"), requires_shipping=False)
    card, code = ledger.issue(amount=2500, currency="usd")
    assert api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 1}).status_code == 201

    applied = api.send("post", "/cart/gift-cards", {"code": code.lower()})

    assert applied.status_code == 200, applied.content
    body = applied.json()
    assert body["gift_cards"] == [
        {"id": card.pk, "last4": card.last4, "amount": usd(2500, "$25.00")}
    ]
    assert body["total"] == usd(4000, "$40.00")  # a card pays; it does not discount
    assert body["amount_due"] == usd(1500, "$15.00")
    assert code not in applied.content.decode()

    removed = api.send("delete", f"/cart/gift-cards/{card.pk}")
    assert removed.status_code == 200
    assert removed.json()["gift_cards"] == []
    assert removed.json()["amount_due"] == usd(4000, "$40.00")
    assert api.send("delete", f"/cart/gift-cards/{card.pk}").status_code == 404


@pytest.mark.parametrize(
    "code", ["GIFT-0000-0000-0000-0000-0000", "SUMMER10", "GIFT-" + "A" * 24, "x" * 100]
)
def test_a_code_that_is_no_usable_gift_card_is_refused_alike(api: Api, code: str) -> None:
    item = ItemFactory.create(price=Decimal("40.00"))
    api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 1})
    refused = api.send("post", "/cart/gift-cards", {"code": code})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_gift_card"


def test_a_disabled_spent_or_foreign_card_is_refused_like_an_unknown_one(api: Api) -> None:
    item = ItemFactory.create(price=Decimal("40.00"))
    api.send("post", "/cart/lines", {"item_id": item.pk, "quantity": 1})
    off, off_code = ledger.issue(amount=1000, currency="usd")
    off.is_active = False
    off.save()
    _euro, euro_code = ledger.issue(amount=1000, currency="eur")
    spent, spent_code = ledger.issue(amount=1000, currency="usd")
    ledger.adjust(card_id=spent.pk, amount=-1000, note="spent in the shop", by="staff")
    answers = {
        api.send("post", "/cart/gift-cards", {"code": code}).json()["error"]
        for code in (off_code, euro_code, spent_code, "GIFT-0000-0000-0000-0000-0000")
    }
    assert len(answers) == 1


# RUB and KZT: currencies whose Stripe minimum the shop does not know.
CURRENCIES = ["usd", "eur", "jpy", "kwd", "gbp", "rub", "kzt"]


@given(
    currency=st.sampled_from(CURRENCIES),
    total=st.integers(min_value=1, max_value=10**7),
    balances=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=4),
    ships=st.booleans(),
)
def test_cards_leave_stripe_an_exact_rest_it_can_charge(
    currency: str, total: int, balances: list[int], ships: bool
) -> None:
    step = 10 if currency in THREE_DECIMAL else 1
    total = total * step  # what the shop's totals are in that currency
    least = minimum_charge(currency) or 0
    parts = allocate(total=total, balances=balances, currency=currency, ships=ships)
    assert len(parts) == len(balances)
    assert all(0 <= part <= balance for part, balance in zip(parts, balances, strict=True))
    rest = total - sum(parts)
    assert 0 <= rest <= total
    # Nothing left, or at least Stripe's minimum; an order with goods to send always leaves
    # Stripe something (Checkout collects its address), unless the order is below the minimum.
    assert rest == 0 or rest >= least or rest == total
    if ships:
        assert rest > 0
        assert rest >= min(least, total)
    assert rest % step == 0
