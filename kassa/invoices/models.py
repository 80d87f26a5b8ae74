"""Invoices and credit notes: numbered documents, frozen at issue, rendered as PDF on demand."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.orders.models import Order


class InvoiceCounter(models.Model):
    """The last number given in one series (a kind and a year). Its row is locked while a
    number is taken, in the transaction that records the payment or refund, so a number is
    used exactly when that transaction commits: none is shared, none skipped."""

    series = models.CharField(_("series"), max_length=20, primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        ordering = ["series"]
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")

    def __str__(self) -> str:
        return f"{self.series}: {self.last}"


class Invoice(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("invoice")
        CREDIT_NOTE = "credit_note", _("credit note")

    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="invoices", on_delete=models.PROTECT
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    series = models.CharField(_("series"), max_length=20)
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("issued at"))
    currency = models.CharField(_("currency"), max_length=3)
    # Minor units: the order's total for an invoice, the sum credited for a credit note.
    amount = models.BigIntegerField(_("amount"))
    refers_to = models.ForeignKey(
        "self",
        verbose_name=_("refers to"),
        null=True,
        blank=True,
        related_name="credit_notes",
        on_delete=models.PROTECT,
    )
    # For a credit note: Stripe's running total refunded that it brings the order to (one
    # credit note per refund, however often Stripe reports it).
    refunded_total = models.BigIntegerField(_("refunded in all"), null=True, blank=True)
    # What the document says, as it was when it was issued (the shop's legal details, the
    # buyer, the lines and totals): later changes to settings or the catalog change no
    # document already issued.
    data = models.JSONField(_("contents"), default=dict)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["series", "sequence"], name="invoice_number_once"),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(kind="invoice"),
                name="invoice_one_per_order",
            ),
            models.UniqueConstraint(
                fields=["order", "refunded_total"],
                condition=models.Q(kind="credit_note"),
                name="invoice_credit_note_once_per_refund",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"
