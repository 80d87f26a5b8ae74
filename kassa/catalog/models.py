from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kassa.common.money import CURRENCY_CHOICES, MoneyError, validate_amount


class Item(models.Model):
    name = models.CharField(_("name"), max_length=200, validators=[MinLengthValidator(1)])
    description = models.TextField(
        _("description"), max_length=5000, blank=True, validators=[MaxLengthValidator(5000)]
    )
    # Major units, exactly: three places hold every currency Stripe supports (KWD has three).
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=3)
    currency = models.CharField(
        _("currency"), max_length=3, choices=CURRENCY_CHOICES, default="usd"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("item")
        verbose_name_plural = _("items")
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gt=0), name="item_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:item", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        self.name = self.name.strip()
        if not self.name:
            raise ValidationError({"name": _("The name cannot be blank.")})
        if self.price is not None and self.currency:
            try:
                validate_amount(Decimal(self.price), self.currency)
            except MoneyError as exc:
                raise ValidationError({"price": str(exc)}) from exc


class CatalogRevision(models.Model):
    """One row: the token shared pages are kept under (kassa.catalog.revision)."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token
