from django.contrib import admin

from taizhang.accounts.admin_access import AuditedAdmin
from taizhang.supervision.models import ReplyTimeLimit


@admin.register(ReplyTimeLimit)
class ReplyTimeLimitAdmin(AuditedAdmin):
    """How long an addressed unit has to answer a supervision recommendation, per kind (blank: any kind;
    the seeded row is 30 calendar days). Changes apply to recommendations issued from now on."""

    list_display = ["kind", "amount", "unit", "basis"]
    list_display_links = ["kind", "amount"]
    fields = ["kind", "amount", "unit", "basis"]
