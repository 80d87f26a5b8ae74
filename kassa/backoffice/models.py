"""The admin's second view of orders: the ones that are still carts."""

from django.utils.translation import gettext_lazy as _

from kassa.orders.models import Order


class Cart(Order):
    """An open order: a cart being filled, or a checkout the customer left (it has payment
    attempts, all closed). Paid orders and those being paid are the Orders admin's."""

    class Meta:
        proxy = True
        ordering = ["-updated_at", "-id"]
        verbose_name = _("cart or abandoned checkout")
        verbose_name_plural = _("carts and abandoned checkouts")
