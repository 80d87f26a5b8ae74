"""The orders' admin classes. kassa.backoffice.admin registers them, adding each one's payment
parts (orders cannot import payments); nothing here is registered or changed at import."""

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kassa.catalog import revision
from kassa.common.admin_money import CURRENCIES_IN_USE
from kassa.common.admin_paging import LookaheadPagingMixin
from kassa.common.admin_records import RecordsOnly
from kassa.common.money import format_amount, from_minor
from kassa.orders import cart_versions, discount_stats
from kassa.orders.admin_forms import DiscountAdminForm, OrderLineAdminForm
from kassa.orders.admin_fulfilment import export_csv, mark_delivered, mark_shipped
from kassa.orders.models import (
    Discount,
    DiscountUse,
    Order,
    OrderLine,
    OrderStatusChange,
    Reservation,
    ShippingRate,
    Tax,
)
from kassa.orders.models.adjustments import percent
from kassa.orders.pricing import order_totals
from kassa.orders.selectors import currencies_without_shipping_rate

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices


class OrderLineInline(admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    form = OrderLineAdminForm
    extra = 0
    autocomplete_fields = ["item"]
    fields = ("item", "quantity", "unit_price")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        # The order for the currency; the item for a paid order's read-only lines, one query
        # for them all rather than one a line.
        return super().get_queryset(request).select_related("order", "item")

    # Read-only lines show their price as money; the form's field shows it as a number.
    def get_fields(self, request: HttpRequest, obj: Order | None = None) -> tuple[str, ...]:
        if obj is not None and not obj.is_editable:
            return ("item", "quantity", "display_unit_price")
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        return ["display_unit_price"] if obj is not None and not obj.is_editable else []

    @admin.display(description=_("unit price"))
    def display_unit_price(self, obj: OrderLine) -> str:
        return format_amount(obj.unit_price, obj.order.currency)

    # Once a payment has started, the lines are what Stripe was asked to charge.
    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return super().has_add_permission(request, obj) and (obj is None or obj.is_editable)

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.is_editable)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_editable)


class OrderStatusChangeInline(admin.TabularInline[OrderStatusChange, Order]):
    model = OrderStatusChange
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "source"]
    readonly_fields = ["at", "from_status", "to_status", "source"]
    verbose_name_plural = _("history")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReservationInline(admin.TabularInline[Reservation, Order]):
    """The stock the order holds, sold or gave back: written only by kassa.orders.stock."""

    model = Reservation
    extra = 0
    can_delete = False
    fields = ("item", "quantity", "short", "state", "reserved_until", "created_at", "closed_at")
    readonly_fields = fields
    verbose_name_plural = _("stock reservations")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Reservation]:
        return super().get_queryset(request).select_related("item")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class OrderCurrencyFilter(CURRENCIES_IN_USE[1]):  # type: ignore[misc,valid-type]
    """The currencies orders were placed in. On PostgreSQL read as a skip scan of the
    currency index, one probe per currency, where SELECT DISTINCT would read every order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if connection.vendor == "postgresql":
            self.lookup_choices = _order_currencies()


SKIP_SCAN = """
WITH RECURSIVE found (currency) AS (
    (SELECT currency FROM orders_order ORDER BY currency LIMIT 1)
    UNION ALL
    SELECT (SELECT o.currency FROM orders_order AS o WHERE o.currency > found.currency
            ORDER BY o.currency LIMIT 1)
    FROM found WHERE found.currency IS NOT NULL
)
SELECT currency FROM found WHERE currency IS NOT NULL
"""


def _order_currencies() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(SKIP_SCAN)
        return [row[0] for row in cursor.fetchall()]


ORDER_CURRENCIES = ("currency", OrderCurrencyFilter)


class PaidOrBeingPaidFilter(admin.SimpleListFilter):
    """The Orders list opens on orders that were paid or are being paid; carts and abandoned
    checkouts (open orders) are listed on their own (kassa.backoffice's admin)."""

    title = _("orders shown")
    parameter_name = "shown"
    DEFAULT = "paid"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Order]
    ) -> list[tuple[str, str]]:
        return [
            (self.DEFAULT, gettext("paid or being paid")),
            ("all", gettext("all, carts included")),
        ]

    def value(self) -> str:
        return "all" if super().value() == "all" else self.DEFAULT

    def choices(self, changelist: Any) -> Iterator["_ListFilterChoices"]:
        # No "All" of Django's own: one of the two lookups is always in effect.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "all":
            return queryset
        return queryset.exclude(status=Order.Status.OPEN)


# What staff paste from a customer's mail: one address, nothing around it.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CUSTOMER_FIELDS = ["email", "customer_name", "phone", "language"]
FULFILMENT_FIELDS = [
    "fulfilment_status",
    "carrier",
    "tracking_number",
    "tracking_url",
    "shipped_at",
    "delivered_at",
]


class OrderAdmin(LookaheadPagingMixin, admin.ModelAdmin[Order]):
    list_display = [
        "__str__",
        "status",
        "fulfilment_status",
        "email",
        "currency",
        "display_total",
        "display_amount_paid",
        "discount",
        "tax",
        "oversold",
        "created_at",
    ]
    list_filter = [
        PaidOrBeingPaidFilter,
        "status",
        "fulfilment_status",
        "oversold",
        ORDER_CURRENCIES,
        "created_at",
    ]
    search_fields = [
        "=id",
        "email",
        "customer_name",
        "shipping_name",
        "lines__item__name",
        "user__username",
    ]
    actions = [mark_shipped, mark_delivered, export_csv]
    list_select_related = ["discount", "promotion", "tax"]
    # Status and money follow Stripe: they change through the lifecycle, not by hand.
    readonly_fields = [
        "status",
        "visitor_token",
        "display_amount_paid",
        "display_amount_refunded",
        "paid_at",
        "refunded_at",
        "display_totals",
        "display_tax_by_stripe",
        "display_presentment",
        "oversold",
        "created_at",
        "updated_at",
        "buyer_company",
        "buyer_tax_id",
        # Who paid and where it goes come from Stripe; fulfilment changes through the actions.
        *CUSTOMER_FIELDS,
        "display_shipping_address",
        "shipping_method",
        "display_shipping_amount",
        *FULFILMENT_FIELDS,
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "status",
                    "currency",
                    "discount",
                    "tax",
                    "display_totals",
                    "display_tax_by_stripe",
                    "display_amount_paid",
                    "display_presentment",
                    "display_amount_refunded",
                    "paid_at",
                    "refunded_at",
                    "oversold",
                    "user",
                    "visitor_token",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        (_("Customer"), {"fields": (*CUSTOMER_FIELDS, "buyer_company", "buyer_tax_id")}),
        (
            _("Shipping"),
            {"fields": ["display_shipping_address", "shipping_method", "display_shipping_amount"]},
        ),
        (_("Fulfilment"), {"fields": tuple(FULFILMENT_FIELDS)}),
    ]
    raw_id_fields = ["user"]
    inlines = [OrderLineInline, ReservationInline, OrderStatusChangeInline]
    # No date hierarchy: its years are a scan of every order; the created_at filter stays.

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        fixed = list(self.readonly_fields)
        if obj is not None and not obj.is_editable:
            fixed += ["currency", "discount", "tax"]  # part of what was (or is being) charged
        return fixed

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # A cart's total follows its items' prices: the lines come with them.
        lines = Prefetch("lines", queryset=OrderLine.objects.select_related("item"))
        return super().get_queryset(request).prefetch_related(lines)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Each cart shown is priced by the discounts' rules, kept under the catalog revision:
        # one read of it for the page, not one per cart. The list is drawn (the carts priced)
        # when the response is rendered, so it is rendered here, inside.
        with revision.held():
            response = super().changelist_view(request, extra_context)
            if isinstance(response, TemplateResponse):
                response.render()
        return response

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        """An e-mail address finds the orders paid with it, in any case, through the index of
        upper-cased e-mails; anything else is searched in every search field (a scan)."""
        term = search_term.strip()
        if EMAIL.fullmatch(term):
            return queryset.filter(email__iexact=term), False
        return super().get_search_results(request, queryset, search_term)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        # A paid or refunded order is the record of money moved: it stays. Carts and abandoned
        # checkouts can go (the bulk delete action skips the rest, see delete_queryset).
        if obj is not None and obj.paid_at is not None:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        if change:  # staff may give a cart to someone else: its owner before, too
            cart_versions.owners_changed(
                Order.objects.filter(pk=obj.pk).values_list("visitor_token", "user_id")
            )
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # A cart's lines edited here show in its customer's header.
        cart_versions.cart_changed(form.instance)

    def delete_model(self, request: HttpRequest, obj: Order) -> None:
        cart_versions.cart_changed(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        cart_versions.owners_changed(queryset.values_list("visitor_token", "user_id"))
        kept = queryset.filter(paid_at__isnull=False).count()
        super().delete_queryset(request, queryset.filter(paid_at__isnull=True))
        if kept:
            self.message_user(
                request,
                gettext("%(count)s paid or refunded orders were kept: they cannot be deleted.")
                % {"count": kept},
                messages.WARNING,
            )

    @admin.display(description=_("shipping address"))
    def display_shipping_address(self, obj: Order) -> str:
        lines = obj.shipping_address_lines
        if not lines:
            return self.get_empty_value_display()
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description=_("shipping amount"))
    def display_shipping_amount(self, obj: Order) -> str:
        return format_amount(from_minor(obj.shipping_amount, obj.currency), obj.currency)

    @admin.display(description=_("total"))
    def display_total(self, obj: Order) -> str:
        totals = order_totals(obj)
        return format_amount(from_minor(totals.total, obj.currency), obj.currency)

    @admin.display(description=_("amount paid"))
    def display_amount_paid(self, obj: Order) -> str:
        if obj.amount_paid is None:
            return self.get_empty_value_display()
        return format_amount(from_minor(obj.amount_paid, obj.currency), obj.currency)

    @admin.display(description=_("tax computed by Stripe"))
    def display_tax_by_stripe(self, obj: Order) -> str:
        if not obj.tax_computed_by_stripe:
            return self.get_empty_value_display()
        amount = format_amount(from_minor(obj.tax_amount, obj.currency), obj.currency)
        parts = ", ".join(
            f"{part.get('name', '')} {part.get('rate', '')}%" for part in obj.tax_breakdown
        )
        included = gettext(" (included)") if obj.tax_inclusive else ""
        return f"{amount}{included}" + (f" — {parts}" if parts else "")

    @admin.display(description=_("buyer paid"))
    def display_presentment(self, obj: Order) -> str:
        """What the buyer saw and paid in their own currency (Adaptive Pricing); the shop's
        figures stay in the settlement currency."""
        if not obj.presentment_currency or obj.presentment_amount is None:
            return self.get_empty_value_display()
        currency = obj.presentment_currency
        return format_amount(from_minor(obj.presentment_amount, currency), currency)

    @admin.display(description=_("amount refunded"))
    def display_amount_refunded(self, obj: Order) -> str:
        return format_amount(from_minor(obj.amount_refunded, obj.currency), obj.currency)

    @admin.display(description=_("totals"))
    def display_totals(self, obj: Order) -> str:
        totals = order_totals(obj)
        tax, inclusive, total = totals.tax, totals.tax_inclusive, totals.total
        if obj.tax_computed_by_stripe and obj.amount_paid is not None:
            # Stripe Tax's figures, as charged: the shop computes none of its own.
            tax, inclusive, total = obj.tax_amount, obj.tax_inclusive, obj.amount_paid
        money = [
            (gettext("subtotal"), totals.subtotal),
            (gettext("discount"), -totals.discount),
            (gettext("tax") + (gettext(" (included)") if inclusive else ""), tax),
            *([(gettext("shipping"), totals.shipping)] if totals.shipping else []),
            (gettext("total"), total),
        ]
        return " · ".join(
            f"{label} {format_amount(from_minor(amount, obj.currency), obj.currency)}"
            for label, amount in money
        )


def _charged_with(**adjustment: object) -> bool:
    """Whether an order whose payment has started (or is done) was priced with it."""
    return Order.objects.filter(**adjustment).exclude(status=Order.Status.OPEN).exists()


# The form's fields, and the sales made with the discount.
_DISCOUNT_FIELDS: tuple[str, ...] = (*DiscountAdminForm.Meta.fields, "display_sales")


class DiscountAdmin(admin.ModelAdmin[Discount]):
    form = DiscountAdminForm
    list_display = [
        "name",
        "kind",
        "display_percent_off",
        "display_amount_off",
        "currency",
        "code",
        "active",
        "automatic",
        "display_uses",
    ]
    list_filter = ["kind", "active", "automatic", CURRENCIES_IN_USE]
    search_fields = ["name", "code"]
    filter_horizontal = ["products", "collections"]
    fields = _DISCOUNT_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Discount]:
        return discount_stats.with_uses(super().get_queryset(request))

    @admin.display(description=_("uses"), ordering="paid_uses")
    def display_uses(self, obj: Discount) -> str:
        """Paid orders that took it, and (after a plus) payments being made with it."""
        paid, held = getattr(obj, "paid_uses", 0), getattr(obj, "held_uses", 0)
        limit = f" / {obj.max_uses}" if obj.max_uses is not None else ""
        return f"{paid} + {held}{limit}" if held else f"{paid}{limit}"

    @admin.display(description=_("sales with it"))
    def display_sales(self, obj: Discount) -> str:
        if obj.pk is None:
            return self.get_empty_value_display()
        return discount_stats.sales_text(obj) or self.get_empty_value_display()

    _terms_as_read = {"percent_off": "display_percent_off", "amount_off": "display_amount_off"}

    # Its terms are part of what paid orders show they were charged: to change them, make a
    # new discount (this one can still be deactivated). Read-only, they read as customers do.
    def get_fields(self, request: HttpRequest, obj: Discount | None = None) -> tuple[str, ...]:
        if obj is not None and _charged_with(discount=obj):
            return tuple(self._terms_as_read.get(name, name) for name in _DISCOUNT_FIELDS)
        return _DISCOUNT_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Discount | None = None) -> list[str]:
        if obj is not None and _charged_with(discount=obj):
            return [
                "kind",
                "display_percent_off",
                "display_amount_off",
                "currency",
                "display_sales",
            ]
        return ["display_sales"]

    @admin.display(description=_("percent off"), ordering="percent_off")
    def display_percent_off(self, obj: Discount) -> str:
        if obj.percent_off is None:
            return self.get_empty_value_display()
        return f"{percent(obj.percent_off)}%"

    @admin.display(description=_("amount off"), ordering="amount_off")
    def display_amount_off(self, obj: Discount) -> str:
        if obj.amount_off is None or not obj.currency:
            return self.get_empty_value_display()
        return format_amount(obj.amount_off, obj.currency)


class DiscountUseAdmin(RecordsOnly, admin.ModelAdmin[DiscountUse]):
    """The uses of discounts with limits: held by payments being made, used, released; a use
    beyond its limits (a late payment) is the one to look at."""

    list_display = ["discount", "order", "email", "state", "late", "created_at", "closed_at"]
    list_filter = ["state", "late", "discount"]
    list_select_related = ["discount", "order"]
    search_fields = ["=order__id", "email", "discount__name", "discount__code"]


class TaxAdmin(admin.ModelAdmin[Tax]):
    list_display = [
        "name",
        "display_percentage",
        "inclusive",
        "applies_to_every_order",
        "currency",
    ]
    list_filter = ["inclusive", "applies_to_every_order"]
    search_fields = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Tax | None = None) -> list[str]:
        if obj is not None and _charged_with(tax=obj):
            return ["percentage", "inclusive"]
        return []

    @admin.display(description=_("percentage"), ordering="percentage")
    def display_percentage(self, obj: Tax) -> str:
        return f"{percent(obj.percentage)}%"


class ShippingRateAdmin(admin.ModelAdmin[ShippingRate]):
    list_display = [
        "name",
        "display_amount",
        "currency",
        "min_days",
        "max_days",
        "free_from",
        "active",
    ]
    list_filter = ["active", CURRENCIES_IN_USE]
    search_fields = ["name"]
    fields = ["name", "amount", "currency", "min_days", "max_days", "free_from", "active"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        missing = currencies_without_shipping_rate()
        if missing:
            messages.warning(
                request,
                _(
                    "No active shipping rate in %(currencies)s: customers cannot pay for goods "
                    "sent in it until you add one (a rate of 0 ships them free)."
                )
                % {"currencies": ", ".join(code.upper() for code in missing)},
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: ShippingRate) -> str:
        return format_amount(obj.amount, obj.currency)
