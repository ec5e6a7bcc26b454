"""Who is told about an event, chosen by role and organisation when the message is delivered (not when
the transition happened), and always filtered through `policies.is_visible`: nobody hears about a
case they may not see. The person who caused the event is not told about it.

| topic                           | recipients                                                             |
|---------------------------------|------------------------------------------------------------------------|
| case.created                    | supervisors of the supervising organisation                            |
| case.handover_proposed          | approvers of the supervising organisation                              |
| case.handover_rejected          | supervisors of the supervising organisation                            |
| case.handed_over                | unit leaders of the lead and co-handling units awaiting sign-for       |
| case.declined, .signed_for      | supervisors of the supervising organisation                            |
| case.extension_requested        | approvers of the supervising organisation                              |
| case.extension_decided          | unit leaders and handlers of the lead unit                             |
| case.submitted_for_acceptance   | supervisors of the supervising organisation                            |
| case.returned_for_rework        | unit leaders and handlers of the lead unit                             |
| case.accepted                   | unit leaders of the lead unit                                          |
| case.closed                     | enterprise users of the case's enterprises                             |
| case.reminder (level 0)         | unit leaders and handlers of the target units                          |
| case.overdue (level 1)          | unit leaders of the target units                                       |
| case.reminder / .overdue of the | supervisors of the target (supervising) organisation: the supervising  |
|   clocks followup, recheck      |   side's own deadlines (回访, 回头看)                                   |
| case.escalated (level 2)        | unit leaders and read-only leaders of the target (parent) organisation |
| supervision_order.issued (3)    | supervisors of the supervising organisation + unit leaders of targets  |
| supervision_order.overdue       | supervisors + unit leaders of the target organisations                 |
| supervision_order.replied       | supervisors of the issuing organisation                                |

Target organisations come from the sweeper's payload (`target_org_ids`, see taizhang/sla/sweeper.py);
without them the lead unit (levels 0–1), the responsible organisation (level 2) are used.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Q, QuerySet

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.cases import policies
from taizhang.cases.models import Assignment, Case

Rule = Callable[[Case, dict[str, Any]], QuerySet[User]]
LEAD_ACTIVE = (Assignment.Status.PENDING, Assignment.Status.SIGNED, Assignment.Status.DONE)


def seats_q(org_ids: Iterable[int | None], roles: Iterable[Role]) -> Q:
    ids = {i for i in org_ids if i is not None}
    return Q(memberships__org_id__in=ids, memberships__role__in=[r.value for r in roles])


def members(org_ids: Iterable[int | None], roles: Iterable[Role], *more: Q) -> QuerySet[User]:
    """Active users holding one of `roles` at one of `org_ids` (or matching any of `more`)."""
    q = seats_q(org_ids, roles)
    for extra in more:
        q |= extra
    return User.objects.filter(q, is_active=True).distinct()


def _lead_org_ids(case: Case) -> list[int]:
    return list(case.assignments.filter(role=Assignment.Role.LEAD, status__in=LEAD_ACTIVE)
                .values_list("org_id", flat=True))


def _parent_org_ids(case: Case) -> list[int]:
    if case.responsible_org_id is not None:
        return [case.responsible_org_id]
    parents = case.assignments.filter(role=Assignment.Role.LEAD, status__in=LEAD_ACTIVE).values_list(
        "org__parent_id", flat=True)
    return [parent for parent in parents if parent is not None]


def _targets(payload: dict[str, Any], fallback: list[int]) -> list[int]:
    ids = payload.get("target_org_ids")
    if isinstance(ids, list) and ids:
        return [int(i) for i in ids if isinstance(i, int)]
    return fallback


def supervising(*roles: Role) -> Rule:
    return lambda case, payload: members([case.supervising_org_id], roles)


def lead_unit(*roles: Role) -> Rule:
    return lambda case, payload: members(_lead_org_ids(case), roles)


def handed_over(case: Case, payload: dict[str, Any]) -> QuerySet[User]:
    pending = case.assignments.filter(status=Assignment.Status.PENDING).values_list("org_id", flat=True)
    return members(pending, [Role.UNIT_LEADER])


def enterprises(case: Case, payload: dict[str, Any]) -> QuerySet[User]:
    return members(case.enterprises.values_list("org_id", flat=True), [Role.ENTERPRISE])


def target_units(*roles: Role) -> Rule:
    return lambda case, payload: members(_targets(payload, _lead_org_ids(case)), roles)


# The supervising side's own clocks (sla.sweeper): their reminder and overdue flag go to its supervisors.
SUPERVISING_CLOCKS = frozenset({"followup", "recheck"})


def clock_step(unit_rule: Rule) -> Rule:
    """`case.reminder` / `case.overdue`: `unit_rule` for the units' clocks; for the supervising side's own
    clocks, the supervisors of the target organisation (the supervising organisation by default)."""
    def rule(case: Case, payload: dict[str, Any]) -> QuerySet[User]:
        if payload.get("clock") in SUPERVISING_CLOCKS:
            return members(_targets(payload, [case.supervising_org_id]), [Role.SUPERVISOR])
        return unit_rule(case, payload)
    return rule


def parent_leadership(case: Case, payload: dict[str, Any]) -> QuerySet[User]:
    return members(_targets(payload, _parent_org_ids(case)), [Role.UNIT_LEADER, Role.VIEWER])


def supervision_order(case: Case, payload: dict[str, Any]) -> QuerySet[User]:
    targets = _targets(payload, _lead_org_ids(case) + _parent_org_ids(case))
    supervisors = [case.supervising_org_id, payload.get("issuing_org_id")]
    return members(targets, [Role.UNIT_LEADER], seats_q(supervisors, [Role.SUPERVISOR]))


def order_overdue(case: Case, payload: dict[str, Any]) -> QuerySet[User]:
    targets = _targets(payload, _lead_org_ids(case) + _parent_org_ids(case))
    return members(targets, [Role.UNIT_LEADER], seats_q([*targets, case.supervising_org_id], [Role.SUPERVISOR]))


def order_replied(case: Case, payload: dict[str, Any]) -> QuerySet[User]:
    return members(_targets(payload, [case.supervising_org_id]), [Role.SUPERVISOR])


RULES: dict[str, Rule] = {
    "case.created": supervising(Role.SUPERVISOR),
    "case.handover_proposed": supervising(Role.APPROVER),
    "case.handover_rejected": supervising(Role.SUPERVISOR),
    "case.handed_over": handed_over,
    "case.declined": supervising(Role.SUPERVISOR),
    "case.signed_for": supervising(Role.SUPERVISOR),
    "case.extension_requested": supervising(Role.APPROVER),
    "case.extension_decided": lead_unit(Role.UNIT_LEADER, Role.HANDLER),
    "case.submitted_for_acceptance": supervising(Role.SUPERVISOR),
    "case.returned_for_rework": lead_unit(Role.UNIT_LEADER, Role.HANDLER),
    "case.accepted": lead_unit(Role.UNIT_LEADER),
    "case.closed": enterprises,
    "case.reminder": clock_step(target_units(Role.UNIT_LEADER, Role.HANDLER)),
    "case.overdue": clock_step(target_units(Role.UNIT_LEADER)),
    "case.escalated": parent_leadership,
    "supervision_order.issued": supervision_order,
    "supervision_order.overdue": order_overdue,
    "supervision_order.replied": order_replied,
}


def escalation_rule(level: int) -> Rule:
    """A `case.escalated` message names its level; a level-3 one is told like a supervision order."""
    if level >= 3:
        return supervision_order
    if level == 1:
        return target_units(Role.UNIT_LEADER)
    return parent_leadership


def recipients_for(topic: str, payload: dict[str, Any], case: Case) -> list[User]:
    """The users to tell about `topic` on `case`: by rule, minus the actor, minus anyone who may not see it."""
    rule = RULES.get(topic)
    if topic == "case.escalated":
        level = payload.get("level")
        rule = escalation_rule(level if isinstance(level, int) else 2)
    if rule is None:
        return []
    actor = payload.get("actor")
    users = rule(case, payload).order_by("pk")
    return [user for user in users if user.pk != actor and policies.is_visible(user, case)]
