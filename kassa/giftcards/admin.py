"""The admin's parts for gift cards (registered by kassa.backoffice.admin): the cards with their
balances and ledgers, switching a card off, and a staff adjustment with its reason."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from kassa.common.money import format_amount, from_minor, to_minor
from kassa.giftcards import ledger
from kassa.giftcards.errors import GiftCardError
from kassa.giftcards.models import GiftCard, GiftCardEntry


def _money(minor: int, currency: str) -> str:
    return format_amount(from_minor(minor, currency), currency)


class GiftCardEntryInline(admin.TabularInline[GiftCardEntry, GiftCard]):
    model = GiftCardEntry
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "shown_amount", "shown_balance", "order", "note", "by"]
    readonly_fields = ["created_at", "kind", "shown_amount", "shown_balance", "order", "note", "by"]
    verbose_name_plural = _("ledger")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("amount"))
    def shown_amount(self, entry: GiftCardEntry) -> str:
        sign = "+" if entry.amount > 0 else ""
        return sign + _money(entry.amount, entry.card.currency)

    @admin.display(description=_("balance after"))
    def shown_balance(self, entry: GiftCardEntry) -> str:
        return _money(entry.balance_after, entry.card.currency)


class GiftCardForm(forms.ModelForm[GiftCard]):
    adjust_by = forms.CharField(
        label=_("Adjust the balance by"),
        required=False,
        help_text=_("An amount in the card's currency, e.g. 5.00 or -5.00. Needs a note."),
    )
    adjust_note = forms.CharField(label=_("Why"), required=False, max_length=300)

    class Meta:
        model = GiftCard
        fields = ["is_active", "expires_at", "recipient_email", "recipient_name"]

    def clean_adjust_by(self) -> Decimal | None:
        raw = (self.cleaned_data.get("adjust_by") or "").strip()
        if not raw:
            return None
        try:
            return Decimal(raw)
        except InvalidOperation as exc:
            raise forms.ValidationError(_("Write an amount, e.g. 5.00 or -5.00.")) from exc

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("adjust_by") and not (data.get("adjust_note") or "").strip():
            self.add_error("adjust_note", _("Say why the balance changes."))
        return data


class GiftCardAdmin(admin.ModelAdmin[GiftCard]):
    form = GiftCardForm
    list_display = [
        "__str__",
        "shown_balance",
        "shown_initial",
        "is_active",
        "expires_at",
        "recipient_email",
        "bought_with",
        "created_at",
    ]
    # Its order, shown on every row: read with the cards (a nullable key, which the admin's own
    # select_related leaves out), not one query a card.
    list_select_related = ["bought_with"]
    list_filter = ["is_active", "currency"]
    search_fields = ["last4", "recipient_email", "=bought_with__id"]
    fields = [
        "card",
        "shown_balance",
        "shown_initial",
        "is_active",
        "expires_at",
        "recipient_email",
        "recipient_name",
        "send_on",
        "bought_with",
        "created_at",
        "adjust_by",
        "adjust_note",
    ]
    readonly_fields = [
        "card",
        "shown_balance",
        "shown_initial",
        "send_on",
        "bought_with",
        "created_at",
    ]
    inlines = [GiftCardEntryInline]
    actions = ["disable", "enable"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # cards are issued by a payment, so each has its ledger from the start

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a card with a ledger is switched off, never deleted

    @admin.display(description=_("gift card"))
    def card(self, obj: GiftCard) -> str:
        return str(obj)

    @admin.display(description=_("balance"), ordering="balance")
    def shown_balance(self, obj: GiftCard) -> str:
        return _money(obj.balance, obj.currency)

    @admin.display(description=_("initial amount"))
    def shown_initial(self, obj: GiftCard) -> str:
        return _money(obj.initial_amount, obj.currency)

    @admin.action(description=_("Switch the selected gift cards off"))
    def disable(self, request: HttpRequest, queryset: QuerySet[GiftCard]) -> None:
        queryset.update(is_active=False)

    @admin.action(description=_("Switch the selected gift cards on"))
    def enable(self, request: HttpRequest, queryset: QuerySet[GiftCard]) -> None:
        queryset.update(is_active=True)

    def save_model(self, request: HttpRequest, obj: GiftCard, form: Any, change: bool) -> None:
        # The balance is the ledger's: never saved from the form, only through an adjustment.
        fields = ["is_active", "expires_at", "recipient_email", "recipient_name"]
        obj.save(update_fields=fields)
        amount = form.cleaned_data.get("adjust_by")
        if amount:
            try:
                ledger.adjust(
                    card_id=obj.pk,
                    amount=to_minor(amount, obj.currency)
                    if amount > 0
                    else -to_minor(-amount, obj.currency),
                    note=form.cleaned_data["adjust_note"],
                    by=request.user.get_username(),
                )
            except GiftCardError as exc:
                messages.error(request, exc.message)
