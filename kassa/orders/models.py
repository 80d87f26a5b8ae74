from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse

from kassa.catalog.models import Item
from kassa.common.money import CURRENCY_CHOICES
from kassa.orders.adjustments import Discount, Tax

__all__ = ["Discount", "Order", "OrderLine", "OrderStatusChange", "Tax"]


class Order(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "open"  # a cart: editable
        PENDING = "pending", "pending"  # checkout started: lines frozen
        PAID = "paid", "paid"
        PARTIALLY_REFUNDED = "partially_refunded", "partially refunded"
        REFUNDED = "refunded", "refunded"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    # The visitor who owns the order: a token kept in their session (it survives the session
    # key changing at login), and their user when logged in.
    visitor_token = models.CharField(max_length=32, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    discount = models.ForeignKey(
        Discount, null=True, blank=True, related_name="orders", on_delete=models.PROTECT
    )
    tax = models.ForeignKey(
        Tax, null=True, blank=True, related_name="orders", on_delete=models.PROTECT
    )
    # Bumped for every checkout started, so each gets its own Stripe idempotency key.
    checkout_attempt = models.PositiveIntegerField(default=0)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    # What Stripe says was charged and refunded, in minor units of the order's currency.
    amount_paid = models.BigIntegerField(null=True, blank=True)
    amount_refunded = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "order"
        verbose_name_plural = "orders"

    def __str__(self) -> str:
        return f"Order #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_paid(self) -> bool:
        return self.status in (
            self.Status.PAID,
            self.Status.PARTIALLY_REFUNDED,
            self.Status.REFUNDED,
        )


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    item = models.ForeignKey(Item, related_name="order_lines", on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)
    # The price when the item was added: later catalog changes do not reprice a cart.
    unit_price = models.DecimalField(max_digits=12, decimal_places=3)

    class Meta:
        ordering = ["id"]
        verbose_name = "order line"
        verbose_name_plural = "order lines"
        constraints = [
            models.UniqueConstraint(fields=["order", "item"], name="orderline_unique_item"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orderline_qty_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item.name}"

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderStatusChange(models.Model):
    """One step of an order's life, with what caused it: the order's history for staff."""

    order = models.ForeignKey(Order, related_name="status_changes", on_delete=models.CASCADE)
    from_status = models.CharField(max_length=20, choices=Order.Status.choices)
    to_status = models.CharField(max_length=20, choices=Order.Status.choices)
    source = models.CharField(max_length=80, help_text="What caused it, e.g. a Stripe event id.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "status change"
        verbose_name_plural = "status changes"

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} ({self.source})"
