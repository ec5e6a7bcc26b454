from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.admin_access import AuditedAdmin
from taizhang.sla.models import TimeLimit


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
