"""Reads for closing the loop on the workspace pages: the acceptance checklist and team, follow-up facts,
the enterprise's follow-ups waiting for its answer and the signed-link page."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.cases import policies, services
from taizhang.cases.checklists import checklist_labels
from taizhang.cases.models import Case
from taizhang.cases.workflow import UNREACHABLE_ATTEMPTS_BEFORE_WAIVER, State

TEAM_CANDIDATES_LIMIT = 200


def acceptance_checklist(case: Case) -> list[str]:
    return checklist_labels(case.category)


def acceptance_team_choices(user: User, case: Case) -> list[tuple[int, str]]:
    """Colleagues who may accept `case` with `user`: on its supervising side, in no handling unit."""
    paths = [case.supervising_org.path]
    if case.inspection_round is not None:
        paths.append(case.inspection_round.group.path)
    where = Q()
    for path in paths:
        where |= Q(org__path__startswith=path)
    member_ids = (Membership.objects.filter(where, role__in=list(policies.ACCEPTANCE_TEAM_ROLES),
                                            user__is_active=True, org__is_active=True)
                  .exclude(user=user).values("user_id"))
    candidates = list(User.objects.filter(pk__in=member_ids).order_by("display_name", "pk")[:TEAM_CANDIDATES_LIMIT])
    handling = policies.users_handling(case, [u.pk for u in candidates])
    return [(u.pk, str(u)) for u in candidates if u.pk not in handling]


def acting_role(user: User, action: str, case: Case) -> str:
    seat = policies.acting_seat(user, action, case)
    return seat.role.value if seat else ""


@dataclass(frozen=True)
class FollowUpFacts:
    unreachable_attempts: int
    attempts_before_waiver: int
    may_issue_link: bool


def followup_facts(user: User, case: Case) -> FollowUpFacts | None:
    """The current follow-up round, while the case awaits follow-up."""
    if case.state != State.AWAITING_FOLLOWUP:
        return None
    return FollowUpFacts(unreachable_attempts=services.unreachable_attempts(case),
                         attempts_before_waiver=UNREACHABLE_ATTEMPTS_BEFORE_WAIVER,
                         may_issue_link=services.may_issue_followup_link(user, case))


def followups_awaiting_answer(user: User) -> list[Case]:
    """The enterprise's own cases waiting for its follow-up answer (empty for anyone else)."""
    if not any(s.role == Role.ENTERPRISE for s in policies.seats(user)):
        return []
    cases = policies.scope(user, "record_followup").filter(state=State.AWAITING_FOLLOWUP)
    return [case for case in cases.order_by("followup_due_at", "pk")[:50]
            if acting_role(user, "record_followup", case) == Role.ENTERPRISE]


def link_target(token: str, viewer: Any) -> services.LinkTarget:
    return services.followup_link_target(token, viewer=viewer)
