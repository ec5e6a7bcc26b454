from django.contrib import admin
from django.http import HttpRequest

from taizhang.accounts.admin_access import AuditedAdmin
from taizhang.kpis.models import KpiSettings


@admin.register(KpiSettings)
class KpiSettingsAdmin(AuditedAdmin):
    """The unit score's weights and whether 基本满意 counts as satisfied. One row."""

    list_display = ["__str__", "response_weight", "resolution_weight", "satisfaction_weight",
                    "basically_satisfied_counts"]
    fields = ["response_weight", "resolution_weight", "satisfaction_weight", "basically_satisfied_counts"]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return super().has_add_permission(request) and not KpiSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
