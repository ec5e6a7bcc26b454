from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.admin_access import AuditedAdmin, RoleGatedAdmin
from taizhang.cases import policies
from taizhang.cases.admin import CASE_ROLES
from taizhang.sla.models import Escalation, EscalationPolicy, SupervisionOrder, TimeLimit


@admin.register(TimeLimit)
class TimeLimitAdmin(AuditedAdmin):
    """Time limits per clock × category × mode. A blank category or mode means "any"; the most
    specific row wins. Changes apply to deadlines computed from now on, not to running clocks."""

    list_display = ["clock", "category_or_any", "mode_or_any", "limit", "basis"]
    list_display_links = ["clock", "limit"]
    list_filter = ["clock", "unit", "mode", ("category", admin.EmptyFieldListFilter)]
    search_fields = ["basis", "category__name"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]
    ordering = ["clock", "category__path", "mode"]
    fields = ["clock", "category", "mode", "amount", "unit", "basis"]

    @admin.display(description=_("category"), ordering="category__path")
    def category_or_any(self, obj: TimeLimit) -> str:
        return obj.category.full_name if obj.category else str(_("any category"))

    @admin.display(description=_("rectification mode"), ordering="mode")
    def mode_or_any(self, obj: TimeLimit) -> str:
        return obj.get_mode_display() if obj.mode else str(_("any mode"))

    @admin.display(description=_("time limit"), ordering="amount")
    def limit(self, obj: TimeLimit) -> str:
        return f"{obj.amount} {obj.get_unit_display()}"


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(AuditedAdmin):
    """The ladder's thresholds per clock, in working days. A clock without a row uses the defaults
    (remind 1 day ahead — sign-for: on the day —, leadership after 3, supervision order after 5 more,
    replies within 3 and 5). Changes apply from the next sweep."""

    list_display = ["clock", "remind_workdays_before", "level2_after_workdays", "level3_after_workdays",
                    "response_workdays", "order_reply_workdays", "basis"]
    list_display_links = ["clock"]


class ScopedLadderAdmin(RoleGatedAdmin):
    """Read-only: rows of the cases the user may see (out of scope is 404). Written by the sweeper and
    the escalation services only."""

    allowed_roles = CASE_ROLES
    superuser_allowed = False
    read_only = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        visible = policies.scope(request.user)  # type: ignore[arg-type]
        return super().get_queryset(request).filter(case__in=visible.values("pk"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)


@admin.register(Escalation)
class EscalationAdmin(ScopedLadderAdmin):
    list_display = ["case", "clock", "level", "due_at", "target_org", "created_at", "escalated_by"]
    list_filter = ["level", "clock"]
    search_fields = ["case__number"]
    list_select_related = ["case", "target_org", "escalated_by"]
    date_hierarchy = "created_at"


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(ScopedLadderAdmin):
    list_display = ["number", "case", "issuing_org", "addressed_org", "issued_at", "reply_due_at", "overdue_at",
                    "replied_at"]
    list_filter = [("replied_at", admin.EmptyFieldListFilter), ("overdue_at", admin.EmptyFieldListFilter)]
    search_fields = ["number", "case__number"]
    list_select_related = ["case", "issuing_org", "addressed_org"]
