"""An order (a cart, then a payment) and the history of its status."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kassa.common.address import Address, Contact, address_lines
from kassa.common.money import CURRENCY_CHOICES
from kassa.orders.models.adjustments import Discount, Tax
from kassa.orders.models.shipping import ShippingRate


class Order(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")  # a cart: editable
        PENDING = "pending", _("pending")  # checkout started: lines frozen
        PAID = "paid", _("paid")
        PARTIALLY_REFUNDED = "partially_refunded", _("partially refunded")
        REFUNDED = "refunded", _("refunded")

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    # The visitor who owns the order: a token kept in their session (it survives the session
    # key changing at login), and their user when logged in.
    visitor_token = models.CharField(_("visitor token"), max_length=32, blank=True, db_index=True)
    # Where the order's payment was started from: a keyed digest of the client's network (its
    # address; an IPv6 /64), never the address itself (kassa.orders.holds).
    placed_from = models.CharField(
        _("placed from"),
        max_length=16,
        blank=True,
        default="",
        db_default="",
        db_index=True,
        help_text=_("The client's network, as a digest: orders with the same one came from one."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    discount = models.ForeignKey(
        Discount,
        verbose_name=_("discount"),
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.PROTECT,
    )
    # The automatic discount the order's payment began with (a cart's is the best that fits it
    # now: kassa.orders.discount_rules); `discount` is the one of a code, or staff's.
    promotion = models.ForeignKey(
        Discount,
        verbose_name=_("automatic discount"),
        null=True,
        blank=True,
        related_name="promoted_orders",
        on_delete=models.PROTECT,
    )
    tax = models.ForeignKey(
        Tax,
        verbose_name=_("tax"),
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.PROTECT,
    )
    # What was charged and refunded, in minor units of the order's currency. Which Checkout
    # Session or PaymentIntent carried the money is the payments app's record (PaymentAttempt).
    amount_paid = models.BigIntegerField(_("amount paid"), null=True, blank=True)
    amount_refunded = models.BigIntegerField(_("amount refunded"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    # Paid for more than the stock had (a payment after its reservation lapsed): staff must
    # find the goods or refund (kassa.orders.stock).
    oversold = models.BooleanField(_("oversold"), default=False, db_default=False)

    # Who paid and where it goes, as Stripe reported them when the payment was recorded
    # (kassa.payments.fulfilment). Free text from the customer: stored as given, shown escaped.
    # Database defaults too: a process still running the previous release inserts orders
    # without these columns.
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        default="",
        db_default="",
        help_text=_("The language the customer shopped in; their e-mails are written in it."),
    )
    email = models.EmailField(_("e-mail"), max_length=254, blank=True, default="", db_default="")
    customer_name = models.CharField(
        _("customer name"), max_length=500, blank=True, default="", db_default=""
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True, default="", db_default="")
    shipping_name = models.CharField(
        _("ship to"), max_length=500, blank=True, default="", db_default=""
    )
    shipping_line1 = models.CharField(
        _("address line 1"), max_length=500, blank=True, default="", db_default=""
    )
    shipping_line2 = models.CharField(
        _("address line 2"), max_length=500, blank=True, default="", db_default=""
    )
    shipping_postal_code = models.CharField(
        _("postal code"), max_length=40, blank=True, default="", db_default=""
    )
    shipping_city = models.CharField(
        _("city"), max_length=200, blank=True, default="", db_default=""
    )
    shipping_state = models.CharField(
        _("state or region"), max_length=200, blank=True, default="", db_default=""
    )
    shipping_country = models.CharField(
        _("country"), max_length=2, blank=True, default="", db_default=""
    )
    shipping_rate = models.ForeignKey(
        ShippingRate,
        verbose_name=_("shipping rate"),
        null=True,
        blank=True,
        related_name="orders",
        on_delete=models.PROTECT,
    )
    shipping_method = models.CharField(
        _("shipping method"), max_length=200, blank=True, default="", db_default=""
    )
    # Minor units of the order's currency, included in amount_paid.
    shipping_amount = models.BigIntegerField(_("shipping amount"), default=0, db_default=0)

    # A business buyer's details for the invoice (Checkout's tax id collection, or the card
    # page's fields).
    buyer_company = models.CharField(
        _("company"), max_length=200, blank=True, default="", db_default=""
    )
    buyer_tax_id = models.CharField(
        _("buyer's tax id"), max_length=100, blank=True, default="", db_default=""
    )
    # Tax as Stripe Tax computed it for the payment (SHOP_TAX=stripe), in minor units: the
    # total, whether the prices included it, and its parts per rate as Stripe reported them
    # ({"name", "rate", "amount", "inclusive"}). Manual tax is the order's `tax` instead.
    tax_computed_by_stripe = models.BooleanField(
        _("tax computed by Stripe"), default=False, db_default=False
    )
    tax_amount = models.BigIntegerField(_("tax amount"), default=0, db_default=0)
    tax_inclusive = models.BooleanField(
        _("tax included in prices"), default=False, db_default=False
    )
    tax_breakdown = models.JSONField(_("tax per rate"), default=list, blank=True, db_default=[])
    # What the buyer saw and paid when Checkout showed the price in their own currency
    # (SHOP_ADAPTIVE_PRICING); amounts above stay in the order's (settlement) currency.
    presentment_currency = models.CharField(
        _("paid in currency"), max_length=3, blank=True, default="", db_default=""
    )
    presentment_amount = models.BigIntegerField(_("paid in that currency"), null=True, blank=True)

    # An unpaid checkout's second chance: where its one reminder goes (the customer agreed to
    # hear from the shop in Checkout) and when it was offered.
    recovery_email = models.EmailField(
        _("reminder to"), max_length=254, blank=True, default="", db_default=""
    )
    recovery_offered_at = models.DateTimeField(_("reminder offered at"), null=True, blank=True)

    class Fulfilment(models.TextChoices):
        NOT_REQUIRED = "not_required", _("not required")
        UNFULFILLED = "unfulfilled", _("unfulfilled")
        SHIPPED = "shipped", _("shipped")
        DELIVERED = "delivered", _("delivered")

    # Beside the payment status: set to unfulfilled (or not required) when the order is paid.
    fulfilment_status = models.CharField(
        _("fulfilment"),
        max_length=20,
        choices=Fulfilment.choices,
        blank=True,
        default="",
        db_default="",
    )
    carrier = models.CharField(_("carrier"), max_length=100, blank=True, default="", db_default="")
    tracking_number = models.CharField(
        _("tracking number"), max_length=100, blank=True, default="", db_default=""
    )
    tracking_url = models.URLField(
        _("tracking URL"), max_length=500, blank=True, default="", db_default=""
    )
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            # A signed-in customer's orders are also those paid with their e-mail, in any case
            # (kassa.orders.visitors): what PostgreSQL's case-insensitive match reads.
            models.Index(Upper("email"), name="order_email_upper"),
            # The admin's lists at a million orders read a page from an index in the order they
            # show, never sorting the table: orders newest first, carts by their last change,
            # orders to ship; their currency filter skips through the currencies; the
            # dashboard reads its days' sales and refunds by range.
            models.Index(fields=["created_at", "id"], name="order_created"),
            models.Index(fields=["currency"], name="order_currency"),
            models.Index(
                fields=["updated_at", "id"],
                name="order_cart_updated",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["created_at"],
                name="order_to_ship",
                condition=models.Q(fulfilment_status="unfulfilled"),
            ),
            models.Index(
                fields=["paid_at"], name="order_paid_at", condition=models.Q(paid_at__isnull=False)
            ),
            models.Index(
                fields=["refunded_at"],
                name="order_refunded_at",
                condition=models.Q(refunded_at__isnull=False),
            ),
        ]
        constraints = [
            # One cart per visitor (kassa.orders.cart_merge): a double-click cannot make two.
            models.UniqueConstraint(
                fields=["visitor_token"],
                condition=models.Q(status="open") & ~models.Q(visitor_token=""),
                name="order_one_cart_per_visitor",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Order #%(number)s") % {"number": self.pk})

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def contact(self) -> Contact:
        """Who paid, as Stripe reported them."""
        return Contact(email=self.email, name=self.customer_name, phone=self.phone)

    @property
    def shipping_address(self) -> Address | None:
        """Where the goods go; None when no address was given (digital goods)."""
        address = Address(
            name=self.shipping_name,
            line1=self.shipping_line1,
            line2=self.shipping_line2,
            postal_code=self.shipping_postal_code,
            city=self.shipping_city,
            state=self.shipping_state,
            country=self.shipping_country,
        )
        return None if address.is_empty else address

    def record_contact(self, contact: Contact) -> list[str]:
        """Set the contact's columns (cut to their lengths); the fields set."""
        return self._set(email=contact.email, customer_name=contact.name, phone=contact.phone)

    def record_shipping_address(self, address: Address | None) -> list[str]:
        """Set the address's columns (cut to their lengths), or clear them; the fields set."""
        address = address or Address()
        return self._set(
            shipping_name=address.name,
            shipping_line1=address.line1,
            shipping_line2=address.line2,
            shipping_postal_code=address.postal_code,
            shipping_city=address.city,
            shipping_state=address.state,
            shipping_country=address.country,
        )

    def _set(self, **values: str) -> list[str]:
        for field, value in values.items():
            limit = getattr(self._meta.get_field(field), "max_length", None)
            setattr(self, field, value[:limit] if limit else value)
        return list(values)

    @property
    def shipping_address_lines(self) -> list[str]:
        """The address as a label reads, top to bottom; empty when none was given."""
        address = self.shipping_address
        if address is None or not address.line1:
            return []
        return address_lines(address)

    @property
    def is_paid(self) -> bool:
        return self.status in (
            self.Status.PAID,
            self.Status.PARTIALLY_REFUNDED,
            self.Status.REFUNDED,
        )


class OrderStatusChange(models.Model):
    """One step of an order's life, with what caused it: the order's history for staff."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="status_changes", on_delete=models.CASCADE
    )
    from_status = models.CharField(_("from status"), max_length=20, choices=Order.Status.choices)
    to_status = models.CharField(_("to status"), max_length=20, choices=Order.Status.choices)
    source = models.CharField(
        _("source"), max_length=80, help_text=_("What caused it, e.g. a Stripe event id.")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} ({self.source})"
