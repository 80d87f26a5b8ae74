from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.orders.models import Discount, Tax


class StripeObjectRecord(models.Model):
    """A Stripe object made for one version of our terms in one Stripe account.

    Stripe coupons and tax rates cannot change once created, so each version of a Discount's or
    Tax's terms gets its own object, made once per account and reused by every checkout.
    """

    account = models.CharField(
        _("account"), max_length=32, help_text=_("Fingerprint of the account's API key.")
    )
    version = models.CharField(
        _("version"), max_length=32, help_text=_("Fingerprint of the terms.")
    )
    stripe_id = models.CharField(_("stripe id"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.stripe_id


class StripeCoupon(StripeObjectRecord):
    discount = models.ForeignKey(
        Discount,
        verbose_name=_("discount"),
        related_name="stripe_coupons",
        on_delete=models.CASCADE,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Stripe coupon")
        verbose_name_plural = _("Stripe coupons")
        constraints = [
            models.UniqueConstraint(
                fields=["discount", "account", "version"], name="stripecoupon_once_per_terms"
            )
        ]


class StripeTaxRate(StripeObjectRecord):
    tax = models.ForeignKey(
        Tax, verbose_name=_("tax"), related_name="stripe_tax_rates", on_delete=models.CASCADE
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Stripe tax rate")
        verbose_name_plural = _("Stripe tax rates")
        constraints = [
            models.UniqueConstraint(
                fields=["tax", "account", "version"], name="stripetaxrate_once_per_terms"
            )
        ]


class WebhookEvent(models.Model):
    """Every Stripe event received, stored before it is handled, with how handling went.

    The unique event id makes a redelivered event a no-op; a failed one keeps its error for
    staff and is handled again when Stripe retries it.
    """

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("received")
        PROCESSED = "processed", _("processed")
        IGNORED = "ignored", _("ignored (nothing to do)")
        FAILED = "failed", _("failed (Stripe will retry)")

    event_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100, db_index=True)
    livemode = models.BooleanField(_("livemode"), default=False)
    payload = models.JSONField(_("payload"))
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
