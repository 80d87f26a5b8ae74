"""Gift cards: a balance in one currency, changed only through its ledger (kassa.giftcards.ledger).

The code itself is never stored: only its SHA-256 (to find the card when it is typed) and its
last four characters (to name it to people). Codes are 100 random bits, so a hash without a
salt cannot be guessed back, and the lookup stays one indexed query.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.common.money import format_amount, from_minor
from kassa.orders.models import Order, OrderLine


class GiftCard(models.Model):
    code_hash = models.CharField(_("code (SHA-256)"), max_length=64, unique=True, editable=False)
    last4 = models.CharField(_("last characters"), max_length=4, editable=False)
    currency = models.CharField(_("currency"), max_length=3)
    initial_amount = models.BigIntegerField(
        _("initial amount"), help_text=_("In minor units of the currency.")
    )
    # The ledger's sum, kept beside it so the database itself refuses a balance below zero
    # (the CHECK below), whoever writes: the last line under the row lock the ledger takes.
    balance = models.BigIntegerField(_("balance"), default=0)
    is_active = models.BooleanField(
        _("usable"), default=True, help_text=_("Off: the card cannot pay for anything.")
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    bought_with = models.ForeignKey(
        Order,
        verbose_name=_("bought with order"),
        null=True,
        blank=True,
        related_name="gift_cards_bought",
        on_delete=models.PROTECT,
    )
    recipient_email = models.EmailField(_("recipient's e-mail"), blank=True)
    recipient_name = models.CharField(_("recipient's name"), max_length=100, blank=True)
    message = models.TextField(_("message"), blank=True, max_length=1000)
    send_on = models.DateField(_("sent on"), null=True, blank=True)
    # The code in full until the buyer's success page has shown it once, then blank.
    code_to_show = models.CharField(max_length=40, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("gift card")
        verbose_name_plural = _("gift cards")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="giftcard_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"••••{self.last4}"

    @property
    def display_balance(self) -> str:
        return format_amount(from_minor(self.balance, self.currency), self.currency)


class GiftCardEntry(models.Model):
    """One change of a card's balance; `amount` is signed (minor units)."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("issued")
        HELD = "held", _("held for a payment")
        RELEASED = "released", _("released")
        SPENT = "spent", _("spent")
        REFUNDED = "refunded", _("refunded")
        ADJUSTED = "adjusted", _("adjusted by staff")

    card = models.ForeignKey(
        GiftCard, verbose_name=_("gift card"), related_name="entries", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = models.BigIntegerField(_("amount"), help_text=_("In minor units; signed."))
    balance_after = models.BigIntegerField(_("balance after"))
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        related_name="gift_card_entries",
        on_delete=models.PROTECT,
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["card", "id"]
        verbose_name = _("gift card ledger entry")
        verbose_name_plural = _("gift card ledger")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="giftcardentry_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} {self.get_kind_display()} {self.amount}"


class GiftCardUse(models.Model):
    """A card applied to an order in its cart. `amount` is what it was last held for (what the
    payment was charged less), kept to spend it if a payment arrives after its hold lapsed."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="gift_card_uses", on_delete=models.CASCADE
    )
    card = models.ForeignKey(
        GiftCard, verbose_name=_("gift card"), related_name="uses", on_delete=models.PROTECT
    )
    amount = models.BigIntegerField(_("amount last held"), default=0)
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("gift card applied")
        verbose_name_plural = _("gift cards applied")
        constraints = [
            models.UniqueConstraint(fields=["order", "card"], name="giftcarduse_once_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.card} on order {self.order_id}"


class GiftCardRecipient(models.Model):
    """Whom a gift-card line of a cart is for, as the customer gave it when adding it."""

    line = models.OneToOneField(
        OrderLine, related_name="gift_card_recipient", on_delete=models.CASCADE
    )
    recipient_email = models.EmailField(_("recipient's e-mail"), blank=True)
    recipient_name = models.CharField(_("recipient's name"), max_length=100, blank=True)
    message = models.TextField(_("message"), blank=True, max_length=1000)
    send_on = models.DateField(_("send on"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("gift card recipient")
        verbose_name_plural = _("gift card recipients")

    def __str__(self) -> str:
        return self.recipient_email or str(self.line_id)
