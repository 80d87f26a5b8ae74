"""The mail queue for staff: what is unsent and why, and a way to send it again (registered by
kassa.backoffice.admin)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kassa.common.admin_records import RecordsOnly
from kassa.notifications.models import Mail, RecoveryOptOut
from kassa.notifications.sending import SECRET_KINDS
from kassa.notifications.services import mail_retry


class UnsentFilter(admin.SimpleListFilter):
    title = _("sent")
    parameter_name = "unsent"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Mail]
    ) -> list[tuple[str, str]]:
        return [("yes", gettext("not sent yet")), ("no", gettext("sent"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Mail]) -> QuerySet[Mail]:
        if self.value() == "yes":
            return queryset.exclude(state=Mail.State.SENT)
        if self.value() == "no":
            return queryset.filter(state=Mail.State.SENT)
        return queryset


@admin.action(description=_("Send selected mail again now"))
def send_again(
    modeladmin: admin.ModelAdmin[Mail], request: HttpRequest, queryset: QuerySet[Mail]
) -> None:
    count = mail_retry(mail_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(
        request, gettext("%(count)s e-mails queued to be sent again.") % {"count": count}
    )


class MailAdmin(RecordsOnly, admin.ModelAdmin[Mail]):
    list_display = [
        "__str__",
        "order",
        "state",
        "attempts",
        "short_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    list_filter = [UnsentFilter, "state", "kind"]
    search_fields = ["key", "=order__id", "order__email", "recipients"]
    list_select_related = ["order"]
    actions = [send_again]
    fields = (
        "key",
        "kind",
        "order",
        "language",
        "state",
        "attempts",
        "last_error",
        "next_attempt_at",
        "lease_until",
        "recipients",
        "subject",
        "shown_context",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description=_("context"))
    def shown_context(self, obj: Mail) -> object:
        # A sign-in code would let whoever reads it sign in as the customer: never shown.
        if obj.kind in SECRET_KINDS:
            return "—"
        return obj.context

    @admin.display(description=_("why not sent"))
    def short_error(self, obj: Mail) -> str:
        if obj.state == Mail.State.SENT:
            return ""
        return obj.last_error[:120]


class RecoveryOptOutAdmin(admin.ModelAdmin[RecoveryOptOut]):
    """Addresses that asked for no more reminders of unpaid checkouts."""

    list_display = ["email", "created_at"]
    search_fields = ["email"]
    readonly_fields = ["created_at"]
