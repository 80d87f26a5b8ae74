from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.orders.models import Order


class Mail(models.Model):
    """One e-mail the shop owes someone for one event: created in the transaction of the change
    that causes it, sent by the worker after commit, marked sent once the server accepted it.

    `key` names the event ("confirmation:12", "refund:12:1250"); its uniqueness is what makes
    each mail exist once, however many deliveries of the event race to create it.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("order confirmation")
        SHIPPED = "shipped", _("shipped notice")
        REFUND = "refund", _("refund notice")
        STAFF_NEW_ORDER = "staff_new_order", _("new order (staff)")
        STAFF_NOTICE = "staff_notice", _("notice (staff)")
        RECOVERY = "recovery", _("unpaid checkout reminder")
        SIGN_IN = "sign_in", _("sign-in code")
        RETURN_REQUESTED = "return_requested", _("return request received")
        RETURN_APPROVED = "return_approved", _("return approved")
        RETURN_REJECTED = "return_rejected", _("return rejected")
        GIFT_CARD = "gift_card", _("gift card")

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("gave up")
        CANCELLED = "cancelled", _("no longer needed")  # e.g. a reminder for an order since paid

    key = models.CharField(_("event"), max_length=250, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        related_name="mails",
        on_delete=models.PROTECT,
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    # What the mail says beyond the order itself: a refund's amount, a staff notice's text.
    context = models.JSONField(_("context"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # A worker sending it holds it until then; past it, a stopped worker's send is retried.
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    recipients = models.TextField(_("sent to"), blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.key})"


class RecoveryOptOut(models.Model):
    """An address that asked for no more reminders of unpaid checkouts (the link in one)."""

    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("reminder opt-out")
        verbose_name_plural = _("reminder opt-outs")

    def __str__(self) -> str:
        return self.email
