"""An order's lines: an item, how many, and at what price."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kassa.catalog.models import Item
from kassa.orders.models.order import Order

# The most of one item a line may hold: far above any real basket, low enough that a typo
# (1000 for 10) is refused rather than reserved.
MAX_QUANTITY = 99


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), related_name="lines", on_delete=models.CASCADE
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), related_name="order_lines", on_delete=models.PROTECT
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # While the order is open its lines charge the item's current price (kassa.orders.pricing);
    # this is the price when the item was added, or when a payment last began: the cart says
    # which prices changed since, and a payment freezes the lines at the price of that moment.
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=3)
    # The tax Stripe Tax computed for the line when it was paid (minor units; inside the price
    # or on top of it, as the order's `tax_inclusive` says), where Stripe reported it per line.
    tax_amount = models.BigIntegerField(_("tax computed by Stripe"), null=True, blank=True)
    # Frozen with the payment, as the unit price is (kassa.orders.discount_uses): what the
    # automatic discount took off a unit (minor units), and whether the code covers the line.
    promotion_unit_cut = models.BigIntegerField(
        _("automatic discount per unit"), default=0, db_default=0
    )
    code_covers = models.BooleanField(_("code applies"), default=True, db_default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "item"], name="orderline_unique_item"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="orderline_qty_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.item.name}"
