import datetime as dt
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from taizhang.core.models import CalendarDay, OutboxMessage

# core imports no app, so these admins are registered with role gating and auditing in
# taizhang/accounts/admin.py.


class YearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(date__year=int(value))
        return queryset


class CalendarDayAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Statutory holidays on weekdays and make-up working days on weekends. Add a year here when
    the State Council publishes it. This process sees a change at once, other server processes within
    TAIZHANG_CALENDAR_TTL_SECONDS (30 s by default)."""

    list_display = ["date", "weekday", "kind", "name"]
    list_filter = [YearFilter, "kind"]
    search_fields = ["name"]
    ordering = ["-date"]
    list_per_page = 100

    @admin.display(description=_("weekday"))
    def weekday(self, obj: CalendarDay) -> str:
        return date_format(obj.date, "l")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any],
                           search_term: str) -> tuple[QuerySet[Any], bool]:
        """Besides the name, accept a date (2026-10-01), a month (2026-10) or a year (2026)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        try:
            return results | queryset.filter(date=dt.date.fromisoformat(term)), may_have_duplicates
        except ValueError:
            pass
        parts = term.split("-")
        if len(parts) in (1, 2) and all(p.isdigit() for p in parts) and len(parts[0]) == 4:
            by_period = queryset.filter(date__year=int(parts[0]))
            if len(parts) == 2:
                by_period = by_period.filter(date__month=int(parts[1]))
            return results | by_period, may_have_duplicates
        return results, may_have_duplicates


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Visible for diagnosis, never edited by hand: the application owns these rows."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NumberSequenceAdmin(ReadOnlyAdmin):
    list_display = ["prefix", "year", "last"]
    list_filter = ["year"]
    search_fields = ["prefix"]
    ordering = ["prefix", "-year"]


class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "topic", "created_at", "available_at", "delivered_at", "attempts", "has_error"]
    list_filter = ["topic", ("delivered_at", admin.EmptyFieldListFilter)]
    search_fields = ["topic"]
    ordering = ["-id"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("failed"), boolean=True)
    def has_error(self, obj: OutboxMessage) -> bool:
        return bool(obj.last_error)
