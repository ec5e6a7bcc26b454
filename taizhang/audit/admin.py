"""Read-only admin for the audit trail, open to security auditors and superusers only. Nobody may
add, change or delete events here; the database refuses it anyway."""

import json
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from taizhang.audit.models import AuditEvent
from taizhang.audit.policies import can_read_audit_trail
from taizhang.audit.verify import describe, verify_chain

DETAIL_FIELDS = ("seq", "occurred_at", "actor_id", "actor_name", "actor_role", "actor_org", "actor_org_id", "action",
                 "object_type", "object_id", "object_repr", "before_pretty", "after_pretty", "request_id",
                 "prev_hash", "hash")


def _pretty(data: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["seq", "occurred_at", "actor_name", "actor_role", "actor_org", "action", "object_type",
                    "object_id", "object_repr"]
    list_display_links = ["seq"]
    list_filter = ["action", "object_type"]
    search_fields = ["=object_id"]
    search_help_text = _("Exact object id, e.g. a case number.")
    ordering = ["-seq"]
    show_full_result_count = False
    actions = None
    fields = readonly_fields = DETAIL_FIELDS
    change_list_template = "admin/audit/auditevent/change_list.html"

    @admin.display(description=_("before"))
    def before_pretty(self, obj: AuditEvent) -> str:
        return _pretty(obj.before)

    @admin.display(description=_("after"))
    def after_pretty(self, obj: AuditEvent) -> str:
        return _pretty(obj.after)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_read_audit_trail(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read_audit_trail(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        verify = path("verify/", self.admin_site.admin_view(require_POST(self.verify_view)),
                      name="audit_auditevent_verify")
        return [verify, *super().get_urls()]

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        result = verify_chain()
        if result.problem is None:
            messages.success(request, gettext("OK: %(count)d events verified.") % {"count": result.checked})
        else:
            messages.error(request, describe(result.problem))
        return HttpResponseRedirect(reverse("admin:audit_auditevent_changelist"))
