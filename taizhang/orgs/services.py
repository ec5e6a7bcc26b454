"""Writers of organisation data used by the workspace."""

from django.db import transaction
from django.utils.translation import gettext as _

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.audit.services import ActorContext, record_event
from taizhang.core import clock
from taizhang.core.credit_code import credit_code_error, normalise
from taizhang.core.errors import PermissionDenied, ValidationFailed
from taizhang.orgs.models import Enterprise, LiaisonAssignment, Organisation

ENTERPRISE_CREATOR_ROLES = (Role.SUPERVISOR, Role.INSPECTOR, Role.LIAISON)


@transaction.atomic
def create_enterprise(*, actor: User, name: str, credit_code: str, industry: str = "", address: str = "",
                      contact_name: str = "", contact_phone: str = "",
                      parent: Organisation | None = None) -> Enterprise:
    """Create an enterprise profile and its organisation node (supervisors, inspectors and liaison officers)."""
    seat = (Membership.objects.filter(user=actor, role__in=[r.value for r in ENTERPRISE_CREATOR_ROLES],
                                      org__is_active=True)
            .select_related("org").order_by("pk").first())
    if seat is None or not actor.is_active:
        raise PermissionDenied(_("You may not add enterprises."), code="enterprise.create_not_allowed")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("This field is required: %(field)s.") % {"field": _("Enterprise name")},
                               code="validation.required", field="name")
    code = normalise(credit_code or "")
    reason = credit_code_error(code)
    if reason:
        raise ValidationFailed(reason, code="validation.credit_code_invalid", field="credit_code")
    if Enterprise.objects.filter(credit_code=code).exists():
        raise ValidationFailed(_("An enterprise with this unified social credit code already exists."),
                               code="validation.duplicate_credit_code", field="credit_code")
    org = Organisation.objects.create(name=name[:120], kind=Organisation.Kind.ENTERPRISE, parent=parent)
    enterprise = Enterprise.objects.create(org=org, name=name[:120], credit_code=code, industry=industry[:60],
                                           address=address[:200], contact_name=contact_name[:60],
                                           contact_phone=contact_phone[:30])
    if seat.role == Role.LIAISON:
        # A liaison officer who adds an enterprise looks after it from now on.
        LiaisonAssignment.objects.create(liaison=actor, enterprise=enterprise, since=clock.today())
    record_event(
        actor=ActorContext(user_id=actor.pk, name=str(actor), role=seat.role, org_id=seat.org_id,
                           org_name=seat.org.name),
        action="enterprise.created", object_type="enterprise", object_id=enterprise.pk, object_repr=enterprise.name,
        after={"name": enterprise.name, "credit_code": code, "org": org.pk},
    )
    return enterprise
