"""Outgoing webhooks: the endpoints staff register, the events the shop tells them of, and one
delivery per event and endpoint with each attempt at it (the delivery log)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """Every event an endpoint can ask for. The `return.*` pair is sent by the returns once
    they exist (they call kassa.integrations.events.webhook_emit)."""

    ORDER_PAID = "order.paid", _("order paid")
    ORDER_REFUNDED = "order.refunded", _("order refunded (in part or in full)")
    ORDER_SHIPPED = "order.shipped", _("order shipped")
    ORDER_DELIVERED = "order.delivered", _("order delivered")
    ORDER_CANCELLED = "order.cancelled", _("checkout cancelled, expired or failed")
    RETURN_REQUESTED = "return.requested", _("return requested")
    RETURN_DECIDED = "return.decided", _("return decided")
    PRODUCT_UPDATED = "product.updated", _("product saved")
    STOCK_LOW = "stock.low", _("stock low")
    STOCK_SOLD_OUT = "stock.sold_out", _("stock sold out")


class WebhookEndpoint(models.Model):
    """A receiver staff registered: where to send which events, and the secret they are
    signed with (Standard Webhooks' `whsec_…`). After a rotation the previous secret signs
    too, until `previous_secret_until`, so the receiver can switch without losing a delivery."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    enabled = models.BooleanField(_("enabled"), default=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    secret_created_at = models.DateTimeField(_("secret made at"), null=True, editable=False)
    # Since when every attempt has failed (cleared by a success); past the limit the endpoint
    # is switched off and staff are told.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["url", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in (self.events or [])


class OutgoingEvent(models.Model):
    """Something that happened, as the shop tells it: written in the transaction that made it
    happen, with the body every endpoint receives (the same bytes on every attempt)."""

    event_id = models.CharField(_("event id"), max_length=40, unique=True)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    # What the event is about ("order:12", "item:5"): events of one subject reach each endpoint
    # in the order they happened.
    subject = models.CharField(_("about"), max_length=60)
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WebhookDelivery(models.Model):
    """One event owed to one endpoint, until it is delivered or given up."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("being sent")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("gave up")

    event = models.ForeignKey(
        OutgoingEvent, verbose_name=_("event"), related_name="deliveries", on_delete=models.CASCADE
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        related_name="deliveries",
        on_delete=models.CASCADE,
    )
    # Copied from the event: the order of a subject's deliveries and the log's filters read
    # them without a join.
    event_type = models.CharField(_("event type"), max_length=40, choices=EventType.choices)
    subject = models.CharField(_("about"), max_length=60)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # A worker sending it holds it until then; past it, a killed worker's send is retried.
    lease_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    # Retries stop at this time (3 days after the event, or after staff sent it again).
    give_up_at = models.DateTimeField(_("retried until"))
    last_status = models.PositiveIntegerField(_("last status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["endpoint", "subject", "event"], name="webhook_delivery_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One try at a delivery: when, what the receiver answered (or why there was no answer),
    how long it took, and the first part of the answer."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        related_name="attempt_log",
        on_delete=models.CASCADE,
    )
    started_at = models.DateTimeField(_("time"))
    status = models.PositiveIntegerField(_("status code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    response = models.TextField(_("answer (first part)"), blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.status or self.error}"

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300
