"""The admin parts of payments: payment attempts, refunds, the Stripe objects the shop made and
the payments nobody matched. kassa.backoffice.admin registers them and adds them to the
orders' admin."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from kassa.common.admin_records import RecordsOnly
from kassa.common.money import (
    MoneyError,
    format_amount,
    from_minor,
    quantize,
    to_minor,
    validate_amount,
)
from kassa.orders.models import Order
from kassa.payments.models import (
    PaymentAttempt,
    Refund,
    RefundLine,
    StripeCoupon,
    StripeShippingRate,
    StripeTaxRate,
    TaxTransaction,
    UnmatchedPayment,
)
from kassa.payments.refunds import (
    ReturnedLine,
    refund_order,
    refundable,
    refunds_counted,
    returnable,
)
from kassa.stripe_api.errors import PaymentError


class _StripeRecordInline(admin.TabularInline[Any, Any]):
    """What the shop made in Stripe for a discount or tax: shown, never edited."""

    extra = 0
    can_delete = False
    fields = ["stripe_id", "version", "account", "created_at"]
    readonly_fields = ["stripe_id", "version", "account", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StripeCouponInline(_StripeRecordInline):
    model = StripeCoupon
    verbose_name_plural = _("Stripe coupons made for this discount (one per account and terms)")


class StripeTaxRateInline(_StripeRecordInline):
    model = StripeTaxRate
    verbose_name_plural = _("Stripe tax rates made for this tax (one per account and terms)")


class StripeShippingRateInline(_StripeRecordInline):
    model = StripeShippingRate
    verbose_name_plural = _("Stripe shipping rates made for this rate (one per account and terms)")


class PaymentAttemptInline(admin.TabularInline[PaymentAttempt, Order]):
    """The order's payment history: every Checkout Session and PaymentIntent made for it."""

    model = PaymentAttempt
    extra = 0
    can_delete = False
    fields = ("number", "kind", "state", "display_amount", "stripe_id", "opened_at", "closed_at")
    readonly_fields = fields
    verbose_name_plural = _("payment attempts")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("amount"))
    def display_amount(self, obj: PaymentAttempt) -> str:
        return _money(obj.amount, obj.currency)


def _money(minor: int | None, currency: str) -> str:
    if minor is None:
        return "-"
    return format_amount(from_minor(minor, currency), currency)


class RefundForm(forms.Form):
    """Staff confirm a refund on its own page: it cannot be undone. For one order it asks which
    units came back (none by default): those go back on sale and their amount is refunded,
    unless staff type an amount (a partial refund with nothing coming back, or a different
    figure). Several orders at once are refunded in full, with nothing coming back."""

    confirm = forms.BooleanField(
        label=_("Yes, refund these orders to their customers"), required=True
    )
    amount = forms.DecimalField(
        label=_("Amount to refund"),
        required=False,
        min_value=0,
        max_digits=12,
        help_text=_(
            "In the order's currency. Leave blank to refund what the returned units were paid, "
            "or, when nothing came back, all that is left."
        ),
    )
    restock = forms.BooleanField(
        label=_("Put the returned units back on sale"),
        required=False,
        initial=True,
        help_text=_("Untick when what came back cannot be sold again (damaged)."),
    )
    note = forms.CharField(label=_("Note for staff"), required=False, max_length=500)
    # What the order's refunds came to when the page was opened: a refund made since (another
    # tab, a colleague) makes this one refused instead of doubled.
    refunded_before = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, orders: list[Order], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders = orders
        self.line_fields: list[str] = []
        if len(orders) != 1:
            return
        order = orders[0]
        self.fields["refunded_before"].initial = refunds_counted(order)
        left = returnable(order)
        for line in order.lines.select_related("item"):
            name = f"returned_{line.pk}"
            self.fields[name] = forms.IntegerField(
                label=_("%(item)s: units returned") % {"item": line.item.name},
                required=False,
                initial=0,
                min_value=0,
                max_value=left.get(line.pk, 0),
                help_text=_("%(bought)s bought, %(back)s came back before")
                % {"bought": line.quantity, "back": line.quantity - left.get(line.pk, 0)},
            )
            self.line_fields.append(name)
        # What came back first, the money next, the confirmation last.
        self.order_fields([*self.line_fields, "amount", "restock", "note", "confirm"])

    def returned(self) -> list[ReturnedLine]:
        return [
            ReturnedLine(line_id=int(name.removeprefix("returned_")), quantity=units)
            for name in self.line_fields
            if (units := self.cleaned_data.get(name) or 0)
        ]

    def clean_amount(self) -> int | None:
        amount: Decimal | None = self.cleaned_data.get("amount")
        if amount is None:
            return None
        if len(self.orders) != 1:
            raise forms.ValidationError(_("Refund an amount from one order at a time."))
        order = self.orders[0]
        try:
            validate_amount(amount, order.currency)
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from exc
        minor = to_minor(amount, order.currency)
        left = refundable(order)
        if minor > left:
            raise forms.ValidationError(
                _("At most %(left)s is left to refund.")
                % {"left": format_amount(from_minor(left, order.currency), order.currency)}
            )
        return minor


@admin.action(description=_("Refund selected paid orders in Stripe"), permissions=["refund"])
def refund_in_stripe(
    modeladmin: admin.ModelAdmin[Order], request: HttpRequest, queryset: QuerySet[Order]
) -> TemplateResponse | None:
    orders = list(queryset)
    form = RefundForm(request.POST if "confirm_refund" in request.POST else None, orders=orders)
    if not form.is_valid():
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Refund orders in Stripe"),
            "orders": orders,
            "form": form,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/payments/refund_confirm.html", context)
    single = len(orders) == 1
    for order in orders:
        try:
            refund = refund_order(
                order_id=order.pk,
                requested_by=f"admin {request.user}",
                returned=form.returned() if single else (),
                amount=form.cleaned_data["amount"],
                restock=form.cleaned_data["restock"],
                refunded_before=form.cleaned_data["refunded_before"] if single else None,
                note=form.cleaned_data["note"],
                at_most=staff_refund_limit(request, order),
            )
        except PaymentError as exc:
            modeladmin.message_user(request, f"{order}: {exc.message}", messages.ERROR)
            continue
        _tell(modeladmin, request, order, refund)
    return None


def staff_refund_limit(request: HttpRequest, order: Order) -> int | None:
    """The most one refund by this user may be (minor units), or None: no limit. Staff without
    "Can refund any amount" are held to SHOP_STAFF_REFUND_LIMIT in the order's currency."""
    if request.user.has_perm("payments.refund_any_amount"):
        return None
    limit = settings.SHOP_STAFF_REFUND_LIMIT.get(order.currency.lower())
    if limit is None:
        return None
    return to_minor(quantize(Decimal(limit), order.currency), order.currency)


def _tell(
    modeladmin: admin.ModelAdmin[Order], request: HttpRequest, order: Order, refund: Refund
) -> None:
    """What became of the refund, as staff need to know it: done, waiting, or not made."""
    parts = {
        "order": order,
        "refund": refund.stripe_id,
        "amount": _money(refund.amount, refund.currency),
        "status": refund.state,
    }
    if refund.state == Refund.State.SUCCEEDED:
        modeladmin.message_user(request, _("%(order)s refunded (%(refund)s).") % parts)
    elif refund.counts_against_paid:
        modeladmin.message_user(
            request,
            _(
                "%(order)s: the refund of %(amount)s is %(status)s at Stripe (%(refund)s). The "
                "order counts it as refunded once Stripe says it went through."
            )
            % parts,
            messages.WARNING,
        )
    else:
        modeladmin.message_user(
            request,
            _("Stripe did not make the refund (%(status)s); see %(refund)s in the Dashboard.")
            % parts,
            messages.ERROR,
        )


class RefundLineInline(admin.TabularInline[RefundLine, Refund]):
    model = RefundLine
    extra = 0
    can_delete = False
    fields = ("line", "quantity", "restocked")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RefundInline(admin.TabularInline[Refund, Order]):
    """The order's refunds, with where each stands at Stripe: a failed one is no refund."""

    model = Refund
    extra = 0
    can_delete = False
    fields = (
        "stripe_id",
        "display_amount",
        "state",
        "failure_reason",
        "returned",
        "requested_by",
        "created_at",
    )
    readonly_fields = fields
    verbose_name_plural = _("refunds")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return super().get_queryset(request).prefetch_related("lines__line__item")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("amount"))
    def display_amount(self, obj: Refund) -> str:
        return _money(obj.amount, obj.currency)

    @admin.display(description=_("returned"))
    def returned(self, obj: Refund) -> str:
        return ", ".join(str(line) for line in obj.lines.all()) or "-"


class TaxTransactionInline(admin.TabularInline[TaxTransaction, Order]):
    """What Stripe Tax has recorded of a card-page sale and its refunds; blank ids are waiting
    for Stripe (reconciliation sends them again)."""

    model = TaxTransaction
    fk_name = "order"
    extra = 0
    can_delete = False
    fields = ("kind", "stripe_id", "calculation_id", "amount", "created_at", "recorded_at")
    readonly_fields = fields
    verbose_name_plural = _("tax transactions")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class RefundAdmin(RecordsOnly, admin.ModelAdmin[Refund]):
    """Every refund, made by the shop or in Stripe's Dashboard, and where it stands."""

    list_display = [
        "stripe_id",
        "order",
        "display_amount",
        "state",
        "failure_reason",
        "requested_by",
        "created_at",
        "updated_at",
    ]
    list_filter = ["state", "currency", "created_at"]
    search_fields = ["stripe_id", "payment_intent_id", "=order__id", "requested_by"]
    list_select_related = ["order"]
    inlines = [RefundLineInline]

    # Made through the refund form or by Stripe; read here, never written by hand.

    @admin.display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: Refund) -> str:
        return _money(obj.amount, obj.currency)


class RefundsFilter(admin.SimpleListFilter):
    """Orders with a refund Stripe has not made yet, or one that failed: staff follow them."""

    title = _("refunds")
    parameter_name = "refunds"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, StrOrPromise]]:
        return [("waiting", _("waiting at Stripe")), ("failed", _("failed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        states = {
            "waiting": [Refund.State.PENDING, Refund.State.REQUIRES_ACTION],
            "failed": [Refund.State.FAILED],
        }.get(self.value() or "")
        if states is None:
            return queryset
        return queryset.filter(pk__in=Refund.objects.filter(state__in=states).values("order_id"))


def _paid_twice() -> QuerySet[UnmatchedPayment]:
    return UnmatchedPayment.objects.filter(reason=UnmatchedPayment.Reason.ALREADY_PAID)


class PaidTwiceFilter(admin.SimpleListFilter):
    """Orders a customer paid for twice: staff refund one of the payments."""

    title = _("paid twice")
    parameter_name = "paid_twice"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, StrOrPromise]]:
        return [("unsettled", _("yes, not yet settled")), ("any", _("yes"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        twice = _paid_twice()
        if self.value() == "unsettled":
            twice = twice.filter(resolved=False)
        elif self.value() != "any":
            return queryset
        return queryset.filter(pk__in=twice.values("attempt__order_id"))


def with_paid_twice_flag(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Orders annotated `paid_twice_flag`: a second payment waits in Unmatched payments."""
    unsettled = _paid_twice().filter(resolved=False, attempt__order_id=OuterRef("pk"))
    return queryset.annotate(paid_twice_flag=Exists(unsettled))


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Records of what exists in Stripe: made by the shop, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StripeCouponAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "discount", "version", "account", "created_at"]
    list_filter = ["discount"]
    search_fields = ["stripe_id", "discount__name"]


class StripeTaxRateAdmin(ReadOnlyAdmin):
    list_display = ["stripe_id", "tax", "version", "account", "created_at"]
    list_filter = ["tax"]
    search_fields = ["stripe_id", "tax__name"]


class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "state", "stripe_id", "opened_at", "closed_at"]
    list_filter = ["state", "kind"]
    search_fields = ["stripe_id", "payment_intent_id", "=order__id"]
    list_select_related = ["order"]


class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "outcome", "attempts", "received_at", "handled_at"]
    list_filter = ["outcome", "type", "livemode"]
    search_fields = ["event_id", "type"]
    readonly_fields = [
        "event_id",
        "type",
        "livemode",
        "outcome",
        "attempts",
        "received_at",
        "handled_at",
        "error",
        "payload",
    ]


class UnmatchedPaymentAdmin(admin.ModelAdmin[UnmatchedPayment]):
    """Money Stripe reported that pays no order: staff refund or settle it, then mark it."""

    list_display = [
        "stripe_id",
        "reason",
        "display_amount",
        "claimed_order",
        "attempt",
        "created_at",
        "resolved",
    ]
    list_filter = ["resolved", "reason", "kind"]
    search_fields = ["stripe_id", "payment_intent_id", "claimed_order"]
    list_editable = ["resolved"]
    readonly_fields = [
        "kind",
        "stripe_id",
        "payment_intent_id",
        "reason",
        "display_amount",
        "attempt",
        "claimed_order",
        "source",
        "created_at",
    ]
    fields = [*readonly_fields, "resolved"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: UnmatchedPayment) -> str:
        return _money(obj.amount, obj.currency)
