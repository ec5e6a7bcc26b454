"""Roles of DESIGN.md §4. Pure Python: the workflow table imports this, never the ORM."""

import enum

from django.utils.translation import gettext_lazy as _


class Role(enum.StrEnum):
    SUPERVISOR = "supervisor"
    INSPECTOR = "inspector"
    APPROVER = "approver"
    UNIT_LEADER = "unit_leader"
    HANDLER = "handler"
    LIAISON = "liaison"
    ENTERPRISE = "enterprise"
    VIEWER = "viewer"
    ADMIN = "admin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.SUPERVISOR: _("Supervisor"),
    Role.INSPECTOR: _("Inspection group member"),
    Role.APPROVER: _("Approving leader"),
    Role.UNIT_LEADER: _("Responsible unit leader"),
    Role.HANDLER: _("Handler"),
    Role.LIAISON: _("Enterprise liaison officer"),
    Role.ENTERPRISE: _("Enterprise"),
    Role.VIEWER: _("Read-only leader"),
    Role.ADMIN: _("System administrator"),
    Role.AUDITOR: _("Security auditor"),
}

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]

SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.APPROVER})
UNIT_ROLES = frozenset({Role.UNIT_LEADER, Role.HANDLER})
