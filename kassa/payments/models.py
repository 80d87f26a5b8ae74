from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.orders.models import Discount, Order, OrderLine, ShippingRate, Tax


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


class StripeShippingRate(StripeObjectRecord):
    """A Stripe shipping rate for one version of a rate's terms (for one order's price of it:
    a rate that ships free from some amount has a free version too)."""

    shipping_rate = models.ForeignKey(
        ShippingRate,
        verbose_name=_("shipping rate"),
        related_name="stripe_shipping_rates",
        on_delete=models.CASCADE,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Stripe shipping rate")
        verbose_name_plural = _("Stripe shipping rates")
        constraints = [
            models.UniqueConstraint(
                fields=["shipping_rate", "account", "version"],
                name="stripeshippingrate_once_per_terms",
            )
        ]


class StripeProduct(StripeObjectRecord):
    """A Stripe product for one version of an item's terms (its name, picture, tax code): a
    line a coupon is limited to names its product, which the coupon's `applies_to` lists."""

    item = models.ForeignKey(
        "catalog.Item",
        verbose_name=_("item"),
        related_name="stripe_products",
        on_delete=models.CASCADE,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("Stripe product")
        verbose_name_plural = _("Stripe products")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "account", "version"], name="stripeproduct_once_per_terms"
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


class PaymentAttempt(models.Model):
    """One try at paying an order: the Checkout Session or PaymentIntent made for it in Stripe.

    An order's payment history is its attempts. At most one is open (payable) at a time: a new
    attempt closes the ones before it. The Stripe id is blank while the object is being made.
    """

    class Kind(models.TextChoices):
        CHECKOUT_SESSION = "checkout_session", _("Checkout Session")
        PAYMENT_INTENT = "payment_intent", _("PaymentIntent")

    class State(models.TextChoices):
        OPEN = "open", _("open")  # payable, or being made in Stripe
        CLOSED = "closed", _("closed")  # cancelled, expired or superseded
        PAID = "paid", _("paid")
        FAILED = "failed", _("failed")  # Stripe could not make it, or it was never used

    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        related_name="payment_attempts",
        # Payment history outlives nothing: an order with attempts cannot be deleted.
        on_delete=models.PROTECT,
    )
    number = models.PositiveIntegerField(
        _("attempt"), help_text=_("Counts the order's attempts; part of Stripe's idempotency key.")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    stripe_id = models.CharField(_("Stripe id"), max_length=255, blank=True, db_index=True)
    # The PaymentIntent that carries the money: the attempt's own, or a Checkout Session's once
    # paid. Refunds go to it, and Stripe's charge events name it.
    payment_intent_id = models.CharField(
        _("PaymentIntent id"), max_length=255, blank=True, db_index=True
    )
    account = models.CharField(
        _("account"), max_length=32, help_text=_("Fingerprint of the Stripe account's API key.")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN, db_index=True
    )
    currency = models.CharField(_("currency"), max_length=3)
    # What Stripe was asked to charge, in minor units; unknown for attempts older than this
    # record (moved from the order, which did not keep it).
    amount = models.BigIntegerField(_("amount"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        ordering = ["order", "number"]
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="paymentattempt_number"),
        ]
        # The dashboard's checkouts started in its last 30 days, by range.
        indexes = [models.Index(fields=["opened_at"], name="paymentattempt_opened_at")]

    def __str__(self) -> str:
        return str(
            _("%(order)s, attempt %(number)s") % {"order": self.order, "number": self.number}
        )


class UnmatchedPayment(models.Model):
    """Money Stripe reports that pays no order: a payment for an object the shop did not make,
    for an amount or currency its attempt did not ask, or a second payment of an order already
    paid. Kept for staff to refund or settle by hand; it never marks an order paid."""

    class Reason(models.TextChoices):
        UNKNOWN_OBJECT = "unknown_object", _("not made by the shop")
        AMOUNT_DIFFERS = "amount_differs", _("amount or currency differ from the attempt")
        ALREADY_PAID = "already_paid", _("the order was already paid")

    kind = models.CharField(_("kind"), max_length=20, choices=PaymentAttempt.Kind.choices)
    stripe_id = models.CharField(_("Stripe id"), max_length=255)
    payment_intent_id = models.CharField(_("PaymentIntent id"), max_length=255, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    amount = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    attempt = models.ForeignKey(
        PaymentAttempt,
        verbose_name=_("attempt"),
        null=True,
        blank=True,
        related_name="unmatched_payments",
        on_delete=models.PROTECT,
    )
    # What the object says about itself (its metadata), never trusted to name an order.
    claimed_order = models.CharField(_("claimed order"), max_length=40, blank=True)
    source = models.CharField(_("source"), max_length=80)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    resolved = models.BooleanField(
        _("resolved"), default=False, help_text=_("Staff have refunded or settled it.")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("unmatched payment")
        verbose_name_plural = _("unmatched payments")
        constraints = [
            models.UniqueConstraint(fields=["kind", "stripe_id"], name="unmatchedpayment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.get_reason_display()})"


class Refund(models.Model):
    """Money sent back to a customer: one Stripe refund, whoever made it (the admin, the
    returns of the accounts, Stripe's Dashboard), with where it stands at Stripe.

    A refund is not done when Stripe accepts it: it may wait (pending, requires_action) and
    fail later, even after it succeeded. The order counts only succeeded refunds as refunded
    (kassa.payments.refunds keeps the two in step); pending ones are shown beside it, and
    already count against what is left to refund, as they do at Stripe.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        REQUIRES_ACTION = "requires_action", _("waiting for the customer")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELED = "canceled", _("canceled")

    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="refunds", on_delete=models.PROTECT
    )
    stripe_id = models.CharField(_("Stripe id"), max_length=255, unique=True)
    payment_intent_id = models.CharField(_("PaymentIntent id"), max_length=255, db_index=True)
    amount = models.BigIntegerField(_("amount"), help_text=_("In minor units of the currency."))
    currency = models.CharField(_("currency"), max_length=3)
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.PENDING, db_index=True
    )
    failure_reason = models.CharField(_("failure reason"), max_length=100, blank=True)
    requested_by = models.CharField(
        _("requested by"), max_length=150, help_text=_("Staff, a return, or Stripe's Dashboard.")
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    # Sent to Stripe with the refund: the same request again (a double click, two staff at
    # once) finds this refund instead of making a second one. Blank for refunds made elsewhere.
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["order", "created_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        # Beyond SHOP_STAFF_REFUND_LIMIT: the owner's (kassa.backoffice.roles).
        permissions = [("refund_any_amount", _("Can refund any amount"))]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="refund_one_per_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.get_state_display()})"

    @property
    def counts_against_paid(self) -> bool:
        """Pending or done: Stripe keeps it from what is left to refund."""
        return self.state not in (self.State.FAILED, self.State.CANCELED)


class RefundLine(models.Model):
    """Units of an order's line that came back with a refund, and whether they went back on
    sale (goods that came back damaged do not)."""

    refund = models.ForeignKey(
        Refund, verbose_name=_("refund"), related_name="lines", on_delete=models.CASCADE
    )
    line = models.ForeignKey(
        OrderLine, verbose_name=_("order line"), related_name="returns", on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity returned"))
    restocked = models.BooleanField(_("back in stock"), default=False)

    class Meta:
        ordering = ["refund", "id"]
        verbose_name = _("returned line")
        verbose_name_plural = _("returned lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="refundline_qty_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.line.item.name}"


class TaxTransaction(models.Model):
    """A sale, or a refund of one, recorded with Stripe Tax for the owner's tax reports: for
    orders paid on the shop's own card page, whose tax the shop asked Stripe to calculate
    (Checkout records its own). The row is written in the transaction that pays or refunds the
    order, so each is recorded once; it is sent to Stripe after the commit, and again by
    reconciliation until Stripe has it (`stripe_id`)."""

    class Kind(models.TextChoices):
        SALE = "sale", _("sale")
        REVERSAL = "reversal", _("reversal")

    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        related_name="tax_transactions",
        on_delete=models.PROTECT,
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    currency = models.CharField(_("currency"), max_length=3)
    # A sale's: the calculation the customer paid.
    calculation_id = models.CharField(_("Stripe Tax calculation"), max_length=255, blank=True)
    # A reversal's: the refund it follows, and what it takes back (minor units, tax
    # included; none: the whole sale).
    refund = models.OneToOneField(
        Refund,
        verbose_name=_("refund"),
        related_name="tax_reversal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    amount = models.BigIntegerField(_("amount reversed"), null=True, blank=True)
    stripe_id = models.CharField(_("Stripe Tax transaction"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    recorded_at = models.DateTimeField(_("recorded at Stripe"), null=True, blank=True)

    class Meta:
        ordering = ["order", "created_at", "id"]
        verbose_name = _("tax transaction")
        verbose_name_plural = _("tax transactions")
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(kind="sale"),
                name="taxtransaction_one_sale_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.stripe_id or '(not recorded yet)'}"
