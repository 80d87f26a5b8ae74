"""Shipping rates staff offer (kassa.orders.shipping works out which an order is offered)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.common.money import CURRENCY_CHOICES, MoneyError, format_amount, to_minor


class ShippingRate(models.Model):
    name = models.CharField(
        _("name"), max_length=100, help_text=_("Shown to the customer, e.g. “Standard post”.")
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("The price of shipping an order, in the rate's currency; 0 for free."),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    min_days = models.PositiveSmallIntegerField(_("delivery from (days)"), null=True, blank=True)
    max_days = models.PositiveSmallIntegerField(_("delivery up to (days)"), null=True, blank=True)
    free_from = models.DecimalField(
        _("free from"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Optional: orders of at least this amount (after discount) ship free."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["currency", "amount", "id"]
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")

    def __str__(self) -> str:
        return f"{self.name} ({format_amount(self.amount, self.currency)})"

    def clean(self) -> None:
        for field in ("amount", "free_from"):
            value = getattr(self, field)
            if value is None or not self.currency:
                continue
            try:
                to_minor(value, self.currency)
            except MoneyError as exc:
                raise ValidationError({field: str(exc)}) from exc
        if (
            self.min_days is not None
            and self.max_days is not None
            and self.min_days > self.max_days
        ):
            raise ValidationError({"max_days": _("Must not be less than the first day.")})
