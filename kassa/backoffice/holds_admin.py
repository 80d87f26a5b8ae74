"""Stock held by payments not yet made: who holds how many units of what, until when, and a way
for staff to end those payments and put the units back on sale (a script holding a sale's stock,
a customer who asked). The rows are written by kassa.orders.stock only."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kassa.common.admin_records import RecordsOnly
from kassa.common.errors import ShopError
from kassa.orders.models import Order, Reservation
from kassa.payments.flow import checkout_cancel


class HeldStockAdmin(RecordsOnly, admin.ModelAdmin[Reservation]):
    list_display = [
        "display_order",
        "item",
        "quantity",
        "reserved_until",
        "display_visitor",
        "display_placed_from",
        "created_at",
    ]
    list_select_related = ["order", "item"]
    # The same network or visitor: paste its value from a row to see all it holds.
    search_fields = ["=order__placed_from", "=order__visitor_token", "item__name", "=order__id"]
    ordering = ["-created_at", "-id"]
    actions = ["release"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reservation]:
        return super().get_queryset(request).filter(state=Reservation.State.HELD)

    def has_release_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.change_order")

    @admin.display(description=_("order"), ordering="order")
    def display_order(self, obj: Reservation) -> SafeString:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order)

    @admin.display(description=_("visitor"))
    def display_visitor(self, obj: Reservation) -> str:
        return obj.order.visitor_token or "—"

    @admin.display(description=_("placed from"))
    def display_placed_from(self, obj: Reservation) -> str:
        return obj.order.placed_from or "—"

    @admin.action(
        description=_("End their payments and put the units back on sale"),
        permissions=["release"],
    )
    def release(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        """Each order's open payment is closed at Stripe first (nobody can pay through it any
        more), then its units go back: as when the customer cancels."""
        orders = Order.objects.filter(pk__in=queryset.values("order_id")).order_by("pk")
        released = 0
        for order in orders:
            try:
                checkout_cancel(order=order, source=f"released by admin {request.user}")
            except ShopError as exc:
                self.message_user(request, f"{order}: {exc.message}", messages.ERROR)
            else:
                released += 1
        if released:
            self.message_user(
                request,
                ngettext(
                    "The payment of %(count)s order was ended; its units are on sale again.",
                    "The payments of %(count)s orders were ended; their units are on sale again.",
                    released,
                )
                % {"count": released},
            )
