"""Stock held or sold for an order: one row per item and reservation, kept as its history."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.catalog.models import Item


class Reservation(models.Model):
    """Units of one item held for an order while it is being paid, then sold or released.

    Held rows are what Item.reserved counts (kassa.orders.stock keeps the two in step, in one
    transaction). A sold row took `quantity` units from the item's stock; `short` counts units
    paid for that the stock no longer had (a payment arriving after its reservation lapsed):
    the order is then flagged oversold.
    """

    class State(models.TextChoices):
        HELD = "held", _("held")
        SOLD = "sold", _("sold")
        RELEASED = "released", _("released")
        RETURNED = "returned", _("returned to stock")

    order = models.ForeignKey(
        "orders.Order",
        verbose_name=_("order"),
        related_name="reservations",
        on_delete=models.CASCADE,
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), related_name="reservations", on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    short = models.PositiveIntegerField(
        _("short"), default=0, help_text=_("Units paid for that were no longer in stock.")
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.HELD, db_index=True
    )
    reserved_until = models.DateTimeField(_("held until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("stock reservation")
        verbose_name_plural = _("stock reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "item"],
                condition=models.Q(state="held"),
                name="reservation_one_held_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item_id} ({self.state})"
