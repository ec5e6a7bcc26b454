"""Who may read the audit trail (DESIGN.md §4): security auditors and superusers, nobody else."""

from typing import Any

from taizhang.accounts.models import Membership
from taizhang.accounts.roles import Role


def can_read_audit_trail(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached: bool | None = getattr(user, "_taizhang_reads_audit", None)
    if cached is None:
        cached = Membership.objects.filter(user=user, role=Role.AUDITOR, org__is_active=True).exists()
        user._taizhang_reads_audit = cached
    return cached
