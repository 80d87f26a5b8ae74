"""Carts and abandoned checkouts: the open orders, kept out of the Orders list, with their age."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kassa.backoffice.models import Cart
from kassa.backoffice.orders_admin import OrderAdmin
from kassa.backoffice.selectors import carts
from kassa.orders.admin import ORDER_CURRENCIES
from kassa.orders.models import Order
from kassa.payments.models import PaymentAttempt


class CartKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Cart]
    ) -> list[tuple[str, str]]:
        return [("cart", str(_("cart"))), ("abandoned", str(_("abandoned checkout")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Cart]) -> QuerySet[Cart]:
        tried = Exists(PaymentAttempt.objects.filter(order=OuterRef("pk")))
        if self.value() == "cart":
            return queryset.filter(~tried)
        if self.value() == "abandoned":
            return queryset.filter(tried)
        return queryset


class IdleFilter(admin.SimpleListFilter):
    title = _("untouched for")
    parameter_name = "idle"
    DAYS = (1, 7, 30, 90)

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Cart]
    ) -> list[tuple[str, str]]:
        return [
            (
                str(days),
                ngettext("more than %(days)s day", "more than %(days)s days", days)
                % {"days": days},
            )
            for days in self.DAYS
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Cart]) -> QuerySet[Cart]:
        value = self.value()
        if value is None or not value.isdigit() or int(value) not in self.DAYS:
            return queryset
        return queryset.filter(updated_at__lt=timezone.now() - timedelta(days=int(value)))


class CartAdmin(OrderAdmin):
    """The same order pages as the Orders admin, listing only what was never paid."""

    list_display = [
        "__str__",
        "display_kind",
        "currency",
        "display_items",
        "display_total",
        "display_age",
        "updated_at",
        "user",
    ]
    list_filter = [CartKindFilter, IdleFilter, ORDER_CURRENCIES]
    list_select_related = ["user", "discount", "tax"]
    actions = []  # nothing here was paid, so there is nothing to refund

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return carts(queryset=super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a cart is a customer's; staff add orders in the Orders admin

    @admin.display(description=_("kind"))
    def display_kind(self, obj: Order) -> str:
        if getattr(obj, "attempt_count", 0):
            return str(_("abandoned checkout"))
        return str(_("cart"))

    @admin.display(description=_("items"))
    def display_items(self, obj: Order) -> int:
        return sum(line.quantity for line in obj.lines.all())

    @admin.display(description=_("age"), ordering="created_at")
    def display_age(self, obj: Order) -> str:
        return timesince(obj.created_at)
