"""Discount and Tax: what staff attach to an order, and Stripe shows in Checkout."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from kassa.catalog.models import Collection, Product
from kassa.common.money import CURRENCY_CHOICES, MoneyError, format_amount, validate_amount


class Discount(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", _("percentage off")
        AMOUNT = "amount", _("fixed amount off")
        FREE_SHIPPING = "free_shipping", _("free shipping")

    name = models.CharField(
        _("name"), max_length=100, help_text=_("Shown to the customer in Checkout.")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERCENT)
    percent_off = models.DecimalField(
        _("percent off"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    amount_off = models.DecimalField(
        _("amount off"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        choices=CURRENCY_CHOICES,
        blank=True,
        help_text=_("The currency of a fixed amount off; it only applies to orders in it."),
    )
    code = models.CharField(
        _("code"),
        max_length=40,
        blank=True,
        help_text=_("Optional: customers who type this code in their cart get the discount."),
    )
    active = models.BooleanField(_("active"), default=True)
    # The rules (kassa.orders.discount_rules reads them; each refusal says which one failed).
    valid_from = models.DateTimeField(
        _("valid from"), null=True, blank=True, help_text=_("Blank: from now on.")
    )
    valid_until = models.DateTimeField(
        _("valid until"), null=True, blank=True, help_text=_("Blank: until switched off.")
    )
    max_uses = models.PositiveIntegerField(
        _("uses in all"),
        null=True,
        blank=True,
        help_text=_(
            "How many orders may take it, e.g. 100 for the first 100 customers. A payment "
            "being made holds one use; blank: no limit."
        ),
    )
    max_uses_per_customer = models.PositiveIntegerField(
        _("uses per customer"),
        null=True,
        blank=True,
        help_text=_(
            "Counted by the order's e-mail and by the customer's account; blank: no limit."
        ),
    )
    # {currency: amount as a decimal string}: an order in a listed currency needs a subtotal
    # of at least that much; a currency not listed has no minimum.
    min_subtotal = models.JSONField(_("minimum subtotal"), default=dict, blank=True, db_default={})
    products = models.ManyToManyField(
        Product,
        verbose_name=_("products"),
        blank=True,
        related_name="discounts",
        help_text=_("Only these products' lines are discounted. Blank, with no collection: all."),
    )
    collections = models.ManyToManyField(
        Collection,
        verbose_name=_("collections"),
        blank=True,
        related_name="discounts",
        help_text=_("Only the lines of products in these collections are discounted."),
    )
    automatic = models.BooleanField(
        _("automatic"),
        default=False,
        db_default=False,
        help_text=_(
            "Applies by itself, with no code, to every cart it fits (a sale). An order takes "
            "at most one automatic discount, the best for it, and one code."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        constraints = [
            models.UniqueConstraint(
                Upper("code"), condition=~models.Q(code=""), name="discount_code_unique_ci"
            ),
        ]

    def __str__(self) -> str:
        if self.is_free_shipping:
            return f"{self.name} ({_('free shipping')})"
        if self.is_percent and self.percent_off is not None:
            return f"{self.name} ({percent(self.percent_off)}% off)"
        if not self.is_percent and self.amount_off is not None and self.currency:
            return f"{self.name} ({format_amount(Decimal(self.amount_off), self.currency)} off)"
        return self.name  # terms not filled in yet (a form with errors)

    @property
    def is_percent(self) -> bool:
        """A percentage off, rather than a fixed amount in one currency."""
        return self.Kind(self.kind) is self.Kind.PERCENT

    @property
    def is_free_shipping(self) -> bool:
        return self.Kind(self.kind) is self.Kind.FREE_SHIPPING

    def clean(self) -> None:
        super().clean()
        self.code = self.code.strip()
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError({"valid_until": _("The end must come after the start.")})
        if self.automatic and self.code:
            raise ValidationError(
                {"automatic": _("An automatic discount applies without a code: clear the code.")}
            )
        if self.automatic and self.Kind(self.kind) is self.Kind.AMOUNT:
            raise ValidationError(
                {
                    "automatic": _(
                        "An automatic discount takes a percentage off each item it covers, "
                        "or gives free shipping."
                    )
                }
            )
        if self.is_free_shipping:
            self.percent_off, self.amount_off, self.currency = None, None, ""
            return
        if self.is_percent:
            if self.percent_off is None:
                raise ValidationError(
                    {"percent_off": _("A percentage discount needs a percentage.")}
                )
            self.amount_off, self.currency = None, ""
            return
        if self.amount_off is None or not self.currency:
            raise ValidationError(_("A fixed discount needs an amount and its currency."))
        try:
            validate_amount(Decimal(self.amount_off), self.currency)
        except MoneyError as exc:
            raise ValidationError({"amount_off": str(exc)}) from exc
        self.percent_off = None

    def applies_to(self, currency: str) -> bool:
        """Whether the discount can be taken now on an order in `currency`."""
        return self.active and self.fits(currency)

    def fits(self, currency: str) -> bool:
        """Whether it can discount an amount in `currency` at all (active or not)."""
        return self.is_percent or self.is_free_shipping or self.currency == currency


class Tax(models.Model):
    name = models.CharField(
        _("name"), max_length=50, help_text=_("Shown to the customer, e.g. 'VAT'.")
    )
    percentage = models.DecimalField(
        _("percentage"),
        max_digits=7,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("99.9999"))],
    )
    inclusive = models.BooleanField(
        _("inclusive"),
        default=False,
        help_text=_("Inclusive: prices already contain the tax. Exclusive: it is added on top."),
    )
    applies_to_every_order = models.BooleanField(
        _("applies to every order"),
        default=False,
        db_default=False,
        help_text=_(
            "Attached to every new cart (in its currency, below); staff can still change an "
            "order's tax before its checkout."
        ),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        choices=CURRENCY_CHOICES,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "For a tax that applies to every order: the currency of the orders it applies to. "
            "Blank: every currency without one of its own."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("tax")
        verbose_name_plural = _("taxes")
        constraints = [
            models.UniqueConstraint(
                fields=["currency"],
                condition=models.Q(applies_to_every_order=True),
                name="tax_one_default_per_currency",
                violation_error_message=_(
                    "Another tax already applies to every order in this currency."
                ),
            ),
        ]

    def __str__(self) -> str:
        kind = "inclusive" if self.inclusive else "exclusive"
        return f"{self.name} {percent(Decimal(self.percentage))}% ({kind})"


def percent(value: Decimal) -> str:
    """A percentage as the shop's pages write it in the active language: 20.0000 as "20",
    7.5000 as "7.5" ("7,5" in Russian), never "2E+1" (the normal form of 20)."""
    return number_format(value.normalize())
