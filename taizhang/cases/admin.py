from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.admin_access import AuditedAdmin, RoleGatedAdmin, roles_of
from taizhang.accounts.roles import Role
from taizhang.cases import policies, selectors
from taizhang.cases.models import AcceptanceChecklistItem, Assignment, Case, Category

CASE_ROLES = frozenset(Role) - {Role.ADMIN, Role.AUDITOR}


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = ["indented_name", "is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    autocomplete_fields = ["parent"]

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj: Category) -> str:
        return "\u3000" * (obj.path.count("/") - 2) + obj.name


@admin.register(AcceptanceChecklistItem)
class AcceptanceChecklistItemAdmin(AuditedAdmin):
    """验收清单: items without a category are the default set; a category's own items replace it for the
    category and its subcategories."""

    list_display = ["label", "category", "position", "is_active"]
    list_filter = ["is_active", ("category", admin.EmptyFieldListFilter)]
    list_editable = ["position", "is_active"]
    search_fields = ["label", "category__name"]
    autocomplete_fields = ["category"]


class AssignmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Assignment
    fields = ("org", "role", "status", "sign_for_due_at", "signed_at", "completed_at", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


@admin.register(Case)
class CaseAdmin(RoleGatedAdmin):
    """Read-only, scoped view of cases: the ledger row and the audit timeline. Writes go through
    the workspace and the API, which call the services."""

    allowed_roles = CASE_ROLES
    superuser_allowed = False
    read_only = True
    list_display = ["number", "title", "state", "source", "category", "responsible_org", "deadline_on",
                    "escalation_level"]
    list_filter = ["state", "source", "mode", "escalation_level"]
    search_fields = ["number", "title"]
    list_select_related = ["category", "responsible_org"]
    inlines = [AssignmentInline]
    exclude = ["internal_note", "reporter_name", "reporter_contact"]
    change_form_template = "admin/cases/case/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return policies.scope(request.user)  # type: ignore[arg-type]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        hidden = list(self.exclude or [])
        if obj is not None and policies.sees_reporter(request.user, obj):  # type: ignore[arg-type]
            hidden = [f for f in hidden if not f.startswith("reporter_")]
        if policies.sees_internal_notes(request.user):  # type: ignore[arg-type]
            hidden = [f for f in hidden if f != "internal_note"]
        return hidden

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*(f.name for f in Case._meta.fields if f.name not in self.get_exclude(request, obj)),
                "enterprises"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:  # type: ignore[override]
        return self.get_readonly_fields(request, obj)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        case = self.get_object(request, object_id) if self._allowed(request) else None
        if case is None:
            raise Http404  # out of scope looks exactly like missing
        timeline = selectors.case_timeline(request.user, case)  # type: ignore[arg-type]
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "timeline": timeline})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(roles_of(request.user) & self.allowed_roles)
