"""Customer accounts (signed in by an e-mailed code), their sign-in codes, and the returns
they ask for."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.common.address import Address
from kassa.orders.models import Order, OrderLine


class Customer(models.Model):
    """A shopper's account: an e-mail address that proved itself by a code. Django's user
    behind it carries the session (login, logout, the session key's rotation); it has no
    usable password and is never staff, so the admin's own sign-in is untouched."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        related_name="customer",
        on_delete=models.CASCADE,
    )
    # Lower case, as typed at sign-in; orders paid with it (in any case) are the customer's.
    email = models.EmailField(_("e-mail"), max_length=254, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_sign_in_at = models.DateTimeField(_("last signed in"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.email


class SignInCode(models.Model):
    """One sign-in request: a code to type and a link to click, stored only as hashes. Valid
    for a few minutes, once, and for a few wrong tries; a newer request replaces it."""

    email = models.EmailField(_("e-mail"), max_length=254, db_index=True)
    code_hash = models.CharField(_("code (hash)"), max_length=64)
    link_hash = models.CharField(_("link (hash)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    failed_tries = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")

    def __str__(self) -> str:
        return str(_("sign-in code of %(when)s") % {"when": self.created_at})


class ReturnRequest(models.Model):
    """A customer asks to send some of a paid order's items back; staff approve (which
    refunds those lines) or reject it with a note."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("to decide")
        # Approved, its refund being made in Stripe now (or stopped midway: see the log).
        APPROVING = "approving", _("being refunded")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="return_requests", on_delete=models.PROTECT
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        related_name="return_requests",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.REQUESTED,
        db_index=True,
    )
    reason = models.TextField(_("reason"), max_length=2000)
    # Staff's choices when deciding: set on the request's page before Approve or Reject.
    refund_shipping = models.BooleanField(
        _("refund shipping too"),
        default=False,
        help_text=_("On approval, refund the order's shipping as well."),
    )
    restock = models.BooleanField(
        _("return the items to stock"),
        default=True,
        help_text=_("On approval, put the returned items back on sale."),
    )
    staff_note = models.TextField(
        _("note to the customer"),
        blank=True,
        max_length=2000,
        help_text=_("Sent with the decision; say why when rejecting."),
    )
    amount_refunded = models.BigIntegerField(_("amount refunded"), null=True, blank=True)
    refund_id = models.CharField(_("Stripe refund"), max_length=100, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")

    def __str__(self) -> str:
        return str(
            _("Return #%(number)s of order #%(order)s")
            % {"number": self.pk, "order": self.order_id}
        )


class ReturnLine(models.Model):
    """How many of one order line a return request sends back."""

    request = models.ForeignKey(
        ReturnRequest,
        verbose_name=_("return request"),
        related_name="lines",
        on_delete=models.CASCADE,
    )
    order_line = models.ForeignKey(
        OrderLine,
        verbose_name=_("order line"),
        related_name="return_requests",
        on_delete=models.PROTECT,
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")
        constraints = [
            models.UniqueConstraint(fields=["request", "order_line"], name="returnline_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="returnline_qty_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_line.item.name}"


class SavedAddress(models.Model):
    """A shipping address the customer keeps: those of their paid orders, saved as they are
    paid, which they edit or remove on their account page. The newest is where the card page
    starts."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), related_name="addresses", on_delete=models.CASCADE
    )
    name = models.CharField(_("name"), max_length=500, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=500)
    line2 = models.CharField(_("address line 2"), max_length=500, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=200)
    state = models.CharField(_("state or region"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("saved address")
        verbose_name_plural = _("saved addresses")

    def __str__(self) -> str:
        return ", ".join(part for part in (self.line1, self.city, self.country) if part)

    @property
    def address(self) -> Address:
        return Address(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            postal_code=self.postal_code,
            city=self.city,
            state=self.state,
            country=self.country,
        )

    @property
    def lines(self) -> list[str]:
        city = " ".join(part for part in (self.postal_code, self.city) if part)
        return [p for p in (self.name, self.line1, self.line2, city, self.state, self.country) if p]
