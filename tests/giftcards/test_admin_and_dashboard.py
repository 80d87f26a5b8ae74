"""Staff's view of gift cards: the list with balances, a card's ledger, switching it off, an
adjustment with its reason (refused without one, and never below zero), and the dashboard's
sold and outstanding figures."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kassa.giftcards import ledger
from kassa.giftcards.models import GiftCard
from kassa.giftcards.selectors import GiftCardFigures, gift_card_figures
from kassa.orders.models import Order

pytestmark = pytest.mark.django_db


def _form(card: GiftCard, **changes: str) -> dict[str, str]:
    return {
        "is_active": "on" if card.is_active else "",
        "expires_at_0": "",
        "expires_at_1": "",
        "recipient_email": card.recipient_email,
        "recipient_name": card.recipient_name,
        "adjust_by": "",
        "adjust_note": "",
        "entries-TOTAL_FORMS": "0",
        "entries-INITIAL_FORMS": str(card.entries.count()),
        "entries-MIN_NUM_FORMS": "0",
        "entries-MAX_NUM_FORMS": "1000",
        **changes,
    }


def test_staff_see_balances_and_ledgers_adjust_with_a_reason_and_switch_cards_off(
    admin_client: Client,
) -> None:
    card, code = ledger.issue(amount=5000, currency="usd")
    listing = admin_client.get("/admin/giftcards/giftcard/").content.decode()
    assert f"••••{card.last4}" in listing
    assert "$50.00" in listing
    assert code not in listing

    url = f"/admin/giftcards/giftcard/{card.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "issued" in page
    assert code not in page

    refused = admin_client.post(url, _form(card, adjust_by="-10.00"))
    assert refused.status_code == 200  # the form again: no reason given
    card.refresh_from_db()
    assert card.balance == 5000

    done = admin_client.post(url, _form(card, adjust_by="-10.00", adjust_note="damaged order"))
    assert done.status_code == 302
    card.refresh_from_db()
    assert card.balance == 4000 == ledger.ledger_sum(card)
    entry = card.entries.last()
    assert entry is not None
    assert (entry.kind, entry.amount, entry.note, entry.by) == (
        "adjusted",
        -1000,
        "damaged order",
        "admin",
    )

    too_much = admin_client.post(url, _form(card, adjust_by="-100.00", adjust_note="oops"))
    assert too_much.status_code == 302
    card.refresh_from_db()
    assert card.balance == 4000  # refused: never below zero

    admin_client.post(url, _form(card, is_active=""))
    card.refresh_from_db()
    assert not card.is_active
    assert admin_client.get(f"/admin/giftcards/giftcard/{card.pk}/delete/").status_code == 403


def test_the_dashboard_shows_cards_sold_and_what_the_shop_still_owes(admin_client: Client) -> None:
    order = Order.objects.create(currency="usd")
    sold, _code = ledger.issue(amount=5000, currency="usd", order=order)
    ledger.adjust(card_id=sold.pk, amount=-2000, note="spent at the counter", by="staff")
    ledger.issue(amount=2500, currency="usd", order=order)
    ledger.issue(amount=1000, currency="usd")  # a goodwill card, not sold
    expired, _code = ledger.issue(amount=700, currency="usd", order=order)
    GiftCard.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))

    assert gift_card_figures() == [
        GiftCardFigures(currency="usd", sold=3, sold_amount=8200, outstanding=6500)
    ]
    page = admin_client.get("/admin/").content.decode()
    assert "Outstanding balance" in page
    assert "$65.00" in page


def test_the_list_reads_the_same_queries_for_one_card_or_twenty(admin_client: Client) -> None:
    """Cards are issued by the orders that bought them: the list names each one's order, read
    with the cards, not one query a card."""

    def bought(count: int) -> None:
        for _ in range(count):
            order = Order.objects.create(currency="usd", status=Order.Status.PAID)
            ledger.issue(amount=5000, currency="usd", order=order)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get("/admin/giftcards/giftcard/")
        assert page.status_code == 200
        return len(captured)

    bought(1)
    queries()
    one = queries()
    bought(19)
    assert queries() == one
