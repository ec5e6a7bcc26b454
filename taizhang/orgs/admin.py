from django.contrib import admin

from taizhang.accounts.admin_access import AuditedAdmin
from taizhang.orgs.models import Enterprise, EnterpriseTag, InspectionRound, LiaisonAssignment, Organisation


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ["indented_name", "kind", "code", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "code"]
    autocomplete_fields = ["parent"]

    @admin.display(description="名称", ordering="path")
    def indented_name(self, obj: Organisation) -> str:
        return "\u3000" * (obj.path.count("/") - 2) + obj.name


@admin.register(Enterprise)
class EnterpriseAdmin(AuditedAdmin):
    list_display = ["name", "credit_code", "industry", "scale"]
    list_filter = ["scale", "tags__tag"]
    search_fields = ["name", "credit_code"]
    autocomplete_fields = ["org"]


@admin.register(EnterpriseTag)
class EnterpriseTagAdmin(AuditedAdmin):
    list_display = ["enterprise", "tag", "level", "granted_on", "expires_on"]
    list_filter = ["tag", "level"]
    search_fields = ["enterprise__name", "enterprise__credit_code"]
    autocomplete_fields = ["enterprise"]


@admin.register(LiaisonAssignment)
class LiaisonAssignmentAdmin(AuditedAdmin):
    list_display = ["liaison", "enterprise", "since"]
    search_fields = ["liaison__username", "liaison__display_name", "enterprise__name"]
    autocomplete_fields = ["liaison", "enterprise"]


@admin.register(InspectionRound)
class InspectionRoundAdmin(AuditedAdmin):
    list_display = ["name", "kind", "group", "starts_on", "ends_on"]
    list_filter = ["kind"]
    search_fields = ["name", "group__name"]
    autocomplete_fields = ["group"]
    filter_horizontal = ["targets"]
