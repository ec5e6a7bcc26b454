from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.admin_access import AuditedAdmin, RoleGatedAdmin
from taizhang.accounts.models import Membership, User
from taizhang.core.admin import CalendarDayAdmin, NumberSequenceAdmin, OutboxMessageAdmin
from taizhang.core.models import CalendarDay, NumberSequence, OutboxMessage


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin[User]):
    list_display = ["username", "display_name", "email", "phone", "is_active", "is_staff", "last_login"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "first_name", "last_name", "email", "phone")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        (_("Roles"), {"fields": ("roles",)}),
    )
    readonly_fields = ["last_login", "date_joined", "roles"]

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return "；".join(str(m) for m in obj.memberships.select_related("org")) or "—"


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "org", "role", "title"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__display_name", "org__name"]
    autocomplete_fields = ["user", "org"]


@admin.register(CalendarDay)
class AuditedCalendarDayAdmin(AuditedAdmin, CalendarDayAdmin):
    pass


@admin.register(NumberSequence)
class GatedNumberSequenceAdmin(RoleGatedAdmin, NumberSequenceAdmin):
    read_only = True


@admin.register(OutboxMessage)
class GatedOutboxMessageAdmin(RoleGatedAdmin, OutboxMessageAdmin):
    read_only = True
