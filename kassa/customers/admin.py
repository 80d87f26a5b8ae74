"""Customers and their return requests for staff (registered by kassa.backoffice.admin): return
requests to decide, approved (which refunds) or rejected with a note; an account's personal data
downloaded or erased."""

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kassa.common.admin_records import RecordsOnly
from kassa.common.errors import ShopError
from kassa.customers.models import Customer, ReturnLine, ReturnRequest
from kassa.customers.personal_data import customer_delete, personal_data_export
from kassa.customers.returns import return_approve, return_reject


class ToDecideFilter(admin.SimpleListFilter):
    title = _("to decide")
    parameter_name = "to_decide"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[ReturnRequest]
    ) -> list[tuple[str, str]]:
        return [("yes", gettext("to decide")), ("no", gettext("decided"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ReturnRequest]
    ) -> QuerySet[ReturnRequest]:
        if self.value() == "yes":
            return queryset.filter(status=ReturnRequest.Status.REQUESTED)
        if self.value() == "no":
            return queryset.exclude(status=ReturnRequest.Status.REQUESTED)
        return queryset


class ReturnLineInline(admin.TabularInline[ReturnLine, ReturnRequest]):
    model = ReturnLine
    fields = ("order_line", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _decide(
    modeladmin: admin.ModelAdmin[ReturnRequest],
    request: HttpRequest,
    queryset: QuerySet[ReturnRequest],
    *,
    approve: bool,
) -> None:
    staff = request.user.get_username()
    for return_request in queryset.order_by("pk"):
        try:
            if approve:
                decision = return_approve(request_id=return_request.pk, decided_by=staff)
                modeladmin.message_user(
                    request,
                    gettext("%(request)s approved; %(amount)s refunded (minor units).")
                    % {"request": return_request, "amount": decision.refunded},
                )
            else:
                return_reject(request_id=return_request.pk, decided_by=staff)
                modeladmin.message_user(
                    request, gettext("%(request)s rejected.") % {"request": return_request}
                )
        except ShopError as error:
            modeladmin.message_user(
                request, f"{return_request}: {error.message}", level=messages.ERROR
            )


@admin.action(description=_("Approve"))
def approve(
    modeladmin: admin.ModelAdmin[ReturnRequest],
    request: HttpRequest,
    queryset: QuerySet[ReturnRequest],
) -> None:
    """Refund the selected requests' lines (with shipping and restock as each request says)."""
    _decide(modeladmin, request, queryset, approve=True)


@admin.action(description=_("Reject"))
def reject(
    modeladmin: admin.ModelAdmin[ReturnRequest],
    request: HttpRequest,
    queryset: QuerySet[ReturnRequest],
) -> None:
    """Refuse the selected requests; each one's note goes to its customer."""
    _decide(modeladmin, request, queryset, approve=False)


class ReturnRequestAdmin(admin.ModelAdmin[ReturnRequest]):
    list_display = ["__str__", "order", "status", "created_at", "decided_at", "amount_refunded"]
    list_filter = [ToDecideFilter, "status"]
    search_fields = ["=order__id"]
    list_select_related = ["order"]
    actions = [approve, reject]
    inlines = [ReturnLineInline]
    fields = (
        "order",
        "status",
        "reason",
        "created_at",
        "refund_shipping",
        "restock",
        "staff_note",
        "amount_refunded",
        "refund_id",
        "decided_by",
        "decided_at",
    )
    readonly_fields = (
        "order",
        "status",
        "reason",
        "created_at",
        "amount_refunded",
        "refund_id",
        "decided_by",
        "decided_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.action(description=_("Download personal data (JSON)"))
def download_personal_data(
    modeladmin: admin.ModelAdmin[Customer], request: HttpRequest, queryset: QuerySet[Customer]
) -> HttpResponse:
    data = [personal_data_export(customer=customer) for customer in queryset.order_by("pk")]
    response = HttpResponse(
        json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2),
        content_type="application/json",
    )
    response["Content-Disposition"] = 'attachment; filename="kassa-personal-data.json"'
    return response


@admin.action(description=_("Delete account and erase personal data"))
def delete_and_erase(
    modeladmin: admin.ModelAdmin[Customer], request: HttpRequest, queryset: QuerySet[Customer]
) -> None:
    staff = request.user.get_username()
    count = 0
    for pk in list(queryset.values_list("pk", flat=True)):
        customer_delete(customer_id=pk, source=f"staff {staff}")
        count += 1
    modeladmin.message_user(
        request, gettext("%(count)s accounts deleted and their data erased.") % {"count": count}
    )


class CustomerAdmin(RecordsOnly, admin.ModelAdmin[Customer]):
    """Read-only: an edit would be logged under the customer's e-mail, which deletion must be
    able to erase; the deletion is an action that erases everywhere."""

    list_display = ["email", "created_at", "last_sign_in_at"]
    search_fields = ["email"]
    fields = ("email", "created_at", "last_sign_in_at")
    readonly_fields = fields
    actions = [download_personal_data, delete_and_erase]
