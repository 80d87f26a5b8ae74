"""One order's use of a discount: held while its payment is made, then used or released."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DiscountUse(models.Model):
    """A discount taken by an order, counted against the discount's limits while held or used
    (kassa.orders.discount_uses keeps them, as kassa.orders.stock keeps reservations).

    `late` marks a use taken by a payment that arrived after its hold was released, when the
    limits no longer had room for it: the customer keeps what they were charged, and staff are
    told.
    """

    class State(models.TextChoices):
        HELD = "held", _("held")
        USED = "used", _("used")
        RELEASED = "released", _("released")

    discount = models.ForeignKey(
        "orders.Discount",
        verbose_name=_("discount"),
        related_name="uses",
        on_delete=models.PROTECT,
    )
    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        related_name="discount_uses",
        on_delete=models.CASCADE,
    )
    # Who took it: the e-mail known when it was held (or the one paid with), and the account.
    email = models.EmailField(_("e-mail"), max_length=254, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.HELD, db_index=True
    )
    late = models.BooleanField(
        _("beyond its limits"),
        default=False,
        help_text=_("Paid after its hold was released, when no use was left: check the order."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("discount use")
        verbose_name_plural = _("discount uses")
        constraints = [
            models.UniqueConstraint(
                fields=["discount", "order"],
                condition=models.Q(state__in=["held", "used"]),
                name="discount_use_one_live_per_order",
            ),
        ]
        indexes = [models.Index(fields=["discount", "state"], name="discount_use_counted")]

    def __str__(self) -> str:
        return f"{self.discount_id} × order {self.order_id} ({self.state})"
