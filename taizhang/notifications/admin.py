from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.forms import Form
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.admin_access import AuditedAdmin, RoleGatedAdmin, admin_actor
from taizhang.audit.services import record_event
from taizhang.notifications.models import ScheduledJob, WebhookDelivery, WebhookEndpoint
from taizhang.notifications.webhooks import EVENT_TYPES

# --- webhooks ------------------------------------------------------------------------------------


class WebhookEndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    events = forms.MultipleChoiceField(label=_("events"), choices=[(e, e) for e in EVENT_TYPES],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "events", "is_active", "secret"]

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        if not url.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Use an http or https address."), code="invalid_scheme")
        return url


def _endpoint_fields(obj: WebhookEndpoint) -> dict[str, Any]:
    """What the audit trail keeps of an endpoint: never the signing secret itself."""
    return {"name": obj.name, "url": obj.url, "events": list(obj.events or []), "is_active": obj.is_active,
            "secret": "(set)" if obj.secret else ""}


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedAdmin):
    """Administrators register endpoints per event type. Saves are audited without the secret."""

    form = WebhookEndpointForm
    list_display = ["name", "url", "is_active", "event_list", "created_by", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description=_("events"))
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events or [])

    def save_model(self, request: HttpRequest, obj: Model, form: Form, change: bool) -> None:
        assert isinstance(obj, WebhookEndpoint)
        before = _endpoint_fields(WebhookEndpoint.objects.get(pk=obj.pk)) if change and obj.pk else {}
        if not change and getattr(request.user, "pk", None):
            obj.created_by_id = request.user.pk
        obj.save()
        after = _endpoint_fields(obj)
        if change and before.get("secret") and form.has_changed() and "secret" in form.changed_data:
            after["secret"] = "(changed)"
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        record_event(actor=admin_actor(request), action=f"webhook_endpoint.{'changed' if change else 'created'}",
                     object_type="notifications.webhookendpoint", object_id=obj.pk, object_repr=str(obj),
                     before={k: before.get(k) for k in changed} if change else {}, after=changed)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        assert isinstance(obj, WebhookEndpoint)
        pk, text, before = obj.pk, str(obj), _endpoint_fields(obj)
        obj.delete()
        record_event(actor=admin_actor(request), action="webhook_endpoint.deleted",
                     object_type="notifications.webhookendpoint", object_id=pk, object_repr=text, before=before)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RoleGatedAdmin):
    """The delivery log: status, attempts, the endpoint's answer. Read-only."""

    read_only = True
    list_display = ["created_at", "event", "endpoint", "status", "attempts", "response_status", "next_attempt_at",
                    "delivered_at"]
    list_filter = ["status", "event", "endpoint"]
    search_fields = ["delivery_id", "event", "payload"]
    list_select_related = ["endpoint"]
    readonly_fields = ["delivery_id", "endpoint", "outbox_message", "event", "payload", "status", "attempts",
                       "next_attempt_at", "last_attempt_at", "response_status", "response_body", "error",
                       "delivered_at", "created_at"]


# --- inbox and e-mail ------------------------------------------------------------------------------
# Notifications carry case titles, so they have no admin (administrators see no case content); the
# schedule of periodic jobs is operational data: its interval may be changed, audited.


@admin.register(ScheduledJob)
class ScheduledJobAdmin(AuditedAdmin):
    list_display = ["name", "interval_seconds", "next_run_at", "last_run_at", "runs"]
    readonly_fields = ["name", "next_run_at", "last_run_at", "runs"]
    fields = ["name", "interval_seconds", "next_run_at", "last_run_at", "runs"]
    ordering = ["name"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # the scheduler creates its rows

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
