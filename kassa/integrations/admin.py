"""The admin parts of outgoing webhooks (registered by kassa.backoffice.admin): the endpoints
staff register, with a secret shown once, and the delivery log with each attempt and a resend."""

import json
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kassa.common.admin_records import RecordsOnly
from kassa.integrations import transport
from kassa.integrations.delivery import delivery_resend
from kassa.integrations.models import (
    DeliveryAttempt,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)
from kassa.integrations.signing import new_secret
from kassa.integrations.tasks import QUEUE


class EndpointForm(forms.ModelForm[WebhookEndpoint]):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The events this endpoint is sent."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "enabled"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            transport.check_url(url)
        except transport.Refused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


def _secret_page(request: HttpRequest, endpoint: WebhookEndpoint, *, rotated: bool) -> HttpResponse:
    """The secret, this once: it is never shown again (the receiver keeps it)."""
    response = TemplateResponse(
        request,
        "integrations/secret_once.html",
        {
            **admin.site.each_context(request),
            "title": gettext("The endpoint's signing secret"),
            "endpoint": endpoint,
            "secret": endpoint.secret,
            "rotated": rotated,
            "overlap_hours": f"{settings.WEBHOOKS_SECRET_OVERLAP_HOURS:g}",
            "opts": WebhookEndpoint._meta,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = EndpointForm
    list_display = ["__str__", "url", "enabled", "event_list", "failing_since", "disabled_reason"]
    list_filter = ["enabled"]
    search_fields = ["url", "description"]
    actions = ["rotate_secret"]
    readonly_fields = ["secret_created_at", "failing_since", "disabled_reason", "created_at"]

    @admin.display(description=_("events"))
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events or [])

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if not obj.secret:
            obj.secret = new_secret()
            obj.secret_created_at = timezone.now()
        if obj.enabled:
            obj.failing_since = None
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
    ) -> HttpResponse:
        return _secret_page(request, obj, rotated=False)

    @admin.action(description=_("Rotate the signing secret (the old one signs on for a while)"))
    def rotate_secret(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, gettext("Rotate one endpoint's secret at a time."), messages.WARNING
            )
            return None
        endpoint = queryset.get()
        now = timezone.now()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = now + timedelta(
            hours=settings.WEBHOOKS_SECRET_OVERLAP_HOURS
        )
        endpoint.secret, endpoint.secret_created_at = new_secret(), now
        endpoint.save(
            update_fields=[
                "secret",
                "previous_secret",
                "previous_secret_until",
                "secret_created_at",
                "updated_at",
            ]
        )
        return _secret_page(request, endpoint, rotated=True)


class AttemptInline(admin.TabularInline[DeliveryAttempt, WebhookDelivery]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("started_at", "status", "duration_ms", "error", "response")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class FailedFilter(admin.SimpleListFilter):
    title = _("failed")
    parameter_name = "failed"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[WebhookDelivery]
    ) -> list[tuple[str, str]]:
        return [
            ("yes", gettext("failed (given up or still retrying)")),
            ("given_up", gettext("given up")),
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]
    ) -> QuerySet[WebhookDelivery]:
        State = WebhookDelivery.State
        if self.value() == "yes":
            return queryset.filter(
                Q(state=State.FAILED) | Q(state__in=[State.PENDING, State.SENDING], attempts__gt=0)
            )
        if self.value() == "given_up":
            return queryset.filter(state=State.FAILED)
        return queryset


@admin.action(description=_("Send selected deliveries again"))
def send_again(
    modeladmin: admin.ModelAdmin[WebhookDelivery],
    request: HttpRequest,
    queryset: QuerySet[WebhookDelivery],
) -> None:
    count = delivery_resend(delivery_ids=list(queryset.values_list("pk", flat=True)), queue=QUEUE)
    modeladmin.message_user(
        request,
        gettext(
            "%(count)s deliveries queued to be sent again (not those to disabled endpoints "
            "or being sent now)."
        )
        % {"count": count},
    )


# The log is the record: manage.py clean_webhook_log trims it, staff never delete from it.
class WebhookDeliveryAdmin(RecordsOnly, admin.ModelAdmin[WebhookDelivery]):
    list_display = [
        "event_type",
        "subject",
        "endpoint",
        "state",
        "attempts",
        "last_status",
        "short_error",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = [FailedFilter, "state", "event_type", "endpoint"]
    search_fields = ["=event__event_id", "subject"]
    list_select_related = ["event", "endpoint"]
    actions = [send_again]
    inlines = [AttemptInline]
    fields = (
        "event_id",
        "event_type",
        "subject",
        "endpoint",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "give_up_at",
        "lease_until",
        "created_at",
        "delivered_at",
        "body",
    )
    readonly_fields = fields

    @admin.display(description=_("event id"))
    def event_id(self, obj: WebhookDelivery) -> str:
        return obj.event.event_id

    @admin.display(description=_("body"))
    def body(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(json.loads(obj.event.body), indent=2))

    @admin.display(description=_("why not delivered"))
    def short_error(self, obj: WebhookDelivery) -> str:
        return "" if obj.state == WebhookDelivery.State.DELIVERED else obj.last_error[:120]
