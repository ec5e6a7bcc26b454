"""Scoped reads of escalations and supervision orders (督办单). Every read starts from the cases the user
may see (`policies.scope()`); anything outside them is NotFound."""

from dataclasses import dataclass

from django.db.models import QuerySet

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.cases import policies
from taizhang.cases.models import Case
from taizhang.core.errors import NotFound
from taizhang.sla.models import Escalation, SupervisionOrder
from taizhang.sla.services import ESCALATION_STATES


def _case(user: User, case: Case | str) -> Case:
    number = case if isinstance(case, str) else case.number
    try:
        return policies.scope(user).select_related("supervising_org", "inspection_round__group").get(number=number)
    except Case.DoesNotExist:
        raise NotFound() from None


# The supervising side's own diary (回访, 回头看 deadlines) is not shown to enterprises.
INTERNAL_CLOCKS = frozenset({"followup", "recheck"})


def escalations_for(user: User, case: Case | str) -> list[Escalation]:
    """The ladder steps of a case the user may see, oldest first, with their supervision orders.
    Enterprises see the steps but not who escalated, the reasons, the units' answers or the supervising
    side's own follow-up and re-check reminders."""
    visible = _case(user, case)
    steps = list(Escalation.objects.filter(case=visible)
                 .select_related("target_org", "escalated_by", "responded_by", "supervision_order")
                 .order_by("created_at", "pk"))
    if not policies.sees_internal_notes(user):
        steps = [step for step in steps if step.clock not in INTERNAL_CLOCKS]
        for step in steps:
            step.reason, step.response, step.escalated_by, step.responded_by = "", "", None, None
            order = getattr(step, "supervision_order", None)  # a reverse one-to-one: absent below level 3
            if order is not None:
                order.reply = ""
    return steps


def orders_for(user: User, case: Case | str) -> QuerySet[SupervisionOrder]:
    visible = _case(user, case)
    return (SupervisionOrder.objects.filter(case=visible)
            .select_related("issuing_org", "addressed_org", "replied_by").order_by("issued_at", "pk"))


def open_orders_for(user: User, case: Case | str) -> QuerySet[SupervisionOrder]:
    """The supervision orders of a visible case still waiting for the lead unit's reply."""
    return orders_for(user, case).filter(replied_at__isnull=True)


def order_for(user: User, order_id: int) -> SupervisionOrder:
    """One supervision order of a case in the user's scope."""
    try:
        return (SupervisionOrder.objects.select_related("case", "issuing_org", "addressed_org", "replied_by")
                .get(pk=order_id, case__in=policies.scope(user)))
    except (SupervisionOrder.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def escalation_for(user: User, escalation_id: int) -> Escalation:
    """One escalation step of a case in the user's scope."""
    try:
        return (Escalation.objects.select_related("case", "target_org", "escalated_by", "responded_by")
                .get(pk=escalation_id, case__in=policies.scope(user)))
    except (Escalation.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@dataclass(frozen=True)
class SupervisionPanel:
    """What the case page's 督办 panel shows and offers to one user."""

    case: Case
    escalations: list[Escalation]
    open_orders: list[SupervisionOrder]
    may_escalate: bool
    may_reply: bool
    responding_ids: frozenset[int]


def may_respond(user: User, escalation: Escalation) -> bool:
    """Whether the user leads the organisation a level-2 escalation told (or one above it)."""
    if escalation.level != Escalation.Level.LEADERSHIP:
        return False
    target = escalation.target_org
    return target is not None and any(
        seat.role == Role.UNIT_LEADER and target.path.startswith(seat.org_path) for seat in policies.seats(user))


def supervision_panel(user: User, case: Case | str) -> SupervisionPanel:
    visible = _case(user, case)
    escalations = list(escalations_for(user, visible))
    open_orders = list(open_orders_for(user, visible))
    return SupervisionPanel(
        case=visible,
        escalations=escalations,
        open_orders=open_orders,
        may_escalate=(visible.state in ESCALATION_STATES
                      and visible.escalation_level < Escalation.Level.SUPERVISION_ORDER
                      and policies.escalating_seat(user, visible) is not None),
        may_reply=bool(open_orders) and policies.lead_unit_leader_seat(user, visible) is not None,
        responding_ids=frozenset(e.pk for e in escalations if e.responded_at is None and may_respond(user, e)),
    )
