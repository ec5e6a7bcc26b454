"""The one place that decides who may see and do what with a case (DESIGN.md §4).

`scope(user, action)` gives the cases a user may act on (or see, for "view");
`can(user, action, case)` answers for one case; `acting_seat` names the membership that
authorises an action, which the audit trail records. Nothing else filters cases by hand.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from taizhang.accounts.models import Membership, User
from taizhang.accounts.roles import Role
from taizhang.cases.models import Assignment, Case
from taizhang.cases.workflow import (
    HANDED_OVER_STATES,
    REGISTER_ROLES,
    TRANSITIONS,
    Party,
    State,
    Transition,
    transition_for,
)
from taizhang.orgs.models import LiaisonAssignment, Organisation

VIEW = "view"
ACTIVE_ASSIGNMENT = (Assignment.Status.PENDING, Assignment.Status.SIGNED, Assignment.Status.DONE)
SUPERVISORY_VIEW_ROLES = frozenset({Role.SUPERVISOR, Role.APPROVER, Role.VIEWER})
UNIT_VIEW_ROLES = frozenset({Role.UNIT_LEADER, Role.HANDLER, Role.VIEWER})


# Read on every request: written out, since building it through the ORM costs many times what it takes to run.
# `SEATS_JOIN` gives the seats of the user `u` of a query, one row each (a row of NULLs when there are none);
# an API token's query reads them with its user.
SEAT_COLUMNS = "m.role, m.org_id, o.path, o.name"
SEATS_JOIN = (f"LEFT JOIN ({Membership._meta.db_table} m JOIN {Organisation._meta.db_table} o "
              "ON o.id = m.org_id AND o.is_active) ON m.user_id = u.id")
SEATS_SQL = f"SELECT {SEAT_COLUMNS} FROM {User._meta.db_table} u {SEATS_JOIN} WHERE u.id = %s ORDER BY m.id"


@dataclass(frozen=True)
class Seat:
    """A membership as policies need it: the role and where the organisation sits in the tree."""

    role: Role
    org_id: int
    org_path: str
    org_name: str


def seats(user: User) -> list[Seat]:
    """The user's memberships, read once per user object (a request)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached: list[Seat] | None = getattr(user, "_taizhang_seats", None)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute(SEATS_SQL, [user.pk])
            cached = keep_seats(user, cursor.fetchall())
    return cached


def keep_seats(user: User, found: Iterable[Sequence[Any]]) -> list[Seat]:
    """Keep on the user object the seats read in `SEAT_COLUMNS` through `SEATS_JOIN`."""
    kept = [Seat(Role(role), org_id, path, name) for role, org_id, path, name in found if role is not None]
    user._taizhang_seats = kept  # type: ignore[attr-defined]
    return kept


def forget_seats(user: User) -> None:
    user.__dict__.pop("_taizhang_seats", None)


def _unit_q(path: str) -> Q:
    assigned = Assignment.objects.filter(case=OuterRef("pk"), org__path__startswith=path,
                                         status__in=ACTIVE_ASSIGNMENT)
    return Q(state__in=list(HANDED_OVER_STATES)) & (Q(Exists(assigned)) | Q(responsible_org__path__startswith=path))


def _seat_q(user: User, seat: Seat) -> Q | None:
    q: Q | None = None
    if seat.role in SUPERVISORY_VIEW_ROLES:
        q = Q(supervising_org__path__startswith=seat.org_path)
    if seat.role in UNIT_VIEW_ROLES:
        q = _unit_q(seat.org_path) if q is None else q | _unit_q(seat.org_path)
    if seat.role == Role.INSPECTOR:
        q = Q(inspection_round__group__path__startswith=seat.org_path) | Q(registered_by=user)
    if seat.role == Role.LIAISON:
        # The portfolio only: a demand registered earlier is not kept once the enterprise moves on.
        portfolio = LiaisonAssignment.objects.filter(liaison=user).values("enterprise_id")
        q = Q(Exists(Case.enterprises.through.objects.filter(case_id=OuterRef("pk"),
                                                             enterprise_id__in=portfolio)))
    if seat.role == Role.ENTERPRISE:
        # The enterprise of this seat only, even for cases the user registered for another one.
        own = Case.enterprises.through.objects.filter(case_id=OuterRef("pk"), enterprise__org_id=seat.org_id)
        q = Q(Exists(own))
    return q


def _view_q(user: User) -> Q | None:
    combined: Q | None = None
    for seat in seats(user):
        q = _seat_q(user, seat)
        if q is not None:
            combined = q if combined is None else combined | q
    return combined


def scope(user: User, action: str = VIEW, *, among: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """Cases `user` may see (action "view") or on which `action` could be open to them; `among` narrows
    a prepared case queryset (e.g. one whose columns are already chosen) instead of all cases."""
    q = _view_q(user)
    base = Case.objects.all() if among is None else among
    if q is None:
        return base.none()
    cases = base.filter(q)
    if action != VIEW:
        roles = {seat.role for seat in seats(user)}
        states = {t.source for t in TRANSITIONS if t.action == action and t.roles & roles}
        cases = cases.filter(state__in=[s.value for s in states])
    return cases


SUPERVISING_ONLY_ROLES = frozenset({Role.SUPERVISOR, Role.APPROVER})
HANDLING_ONLY_ROLES = frozenset({Role.UNIT_LEADER, Role.HANDLER})


def supervised_or_handled(user: User) -> tuple[str, list[str]] | None:
    """The user's scope where it is simply by organisation: ("supervising", seat paths) when every seat sees
    the cases supervised at or below its organisation, ("handling", seat paths) when every seat sees the
    handed-over cases assigned at or below its organisation; None for any other mix of seats."""
    held = seats(user)
    paths = [seat.org_path for seat in held]
    for kind, roles in (("supervising", SUPERVISING_ONLY_ROLES), ("handling", HANDLING_ONLY_ROLES)):
        if held and all(seat.role in roles for seat in held):
            return kind, paths
    return None


def is_visible(user: User, case: Case) -> bool:
    return scope(user).filter(pk=case.pk).exists()


def _under(org_path: str, seat: Seat) -> bool:
    return org_path.startswith(seat.org_path)


def _active_assignments(case: Case) -> list[Assignment]:
    return [a for a in case.assignments.select_related("org") if a.status in ACTIVE_ASSIGNMENT]


def _supervises(seat: Seat, case: Case) -> bool:
    if seat.role == Role.INSPECTOR:
        rnd = case.inspection_round
        return rnd is not None and _under(rnd.group.path, seat)
    return _under(case.supervising_org.path, seat)


def _handles(user: User, case: Case) -> bool:
    """Whether the user belongs, in any role, to an organisation handling the case."""
    assigned_paths = [a.org.path for a in _active_assignments(case)]
    return any(path.startswith(s.org_path) or s.org_path.startswith(path) for s in seats(user)
               for path in assigned_paths)


def handles_case(user: User, case: Case) -> bool:
    """Whether the user belongs to a handling unit of the case (lead or co-handling, above or below it)."""
    return _handles(user, case)


def users_handling(case: Case, user_ids: list[int]) -> set[int]:
    """Of `user_ids`, those who belong to a handling unit of the case (as `handles_case`, in one query)."""
    paths = [a.org.path for a in _active_assignments(case)]
    memberships = Membership.objects.filter(user_id__in=user_ids, org__is_active=True).values_list(
        "user_id", "org__path")
    return {uid for uid, org_path in memberships
            if any(path.startswith(org_path) or org_path.startswith(path) for path in paths)}


ACCEPTANCE_TEAM_ROLES = frozenset({Role.SUPERVISOR, Role.INSPECTOR, Role.APPROVER})


def acceptance_team_seat(user: User, case: Case) -> Seat | None:
    """The membership that lets `user` sit on the acceptance team of `case`: the supervising side
    (a supervisor, approver or inspector of the supervising body or of the round's group)."""
    return next((s for s in seats(user) if s.role in ACCEPTANCE_TEAM_ROLES and _supervises(s, case)), None)


def seat_qualifies(user: User, seat: Seat, transition: Transition, case: Case) -> bool:
    if seat.role not in transition.roles:
        return False
    match transition.party:
        case Party.SUPERVISING | Party.APPROVING:
            return _supervises(seat, case)
        case Party.INDEPENDENT:
            return _supervises(seat, case) and not _handles(user, case)
        case Party.LEAD_UNIT:
            return any(a.role == Assignment.Role.LEAD and _under(a.org.path, seat) for a in _active_assignments(case))
        case Party.ASSIGNED_UNIT:
            return any(_under(a.org.path, seat) for a in _active_assignments(case))
        case Party.CO_UNIT:
            return any(a.role == Assignment.Role.CO and a.status == Assignment.Status.PENDING
                       and _under(a.org.path, seat) for a in _active_assignments(case))
        case Party.FOLLOWUP_PARTY:
            if seat.role == Role.SUPERVISOR:
                return _supervises(seat, case)
            if seat.role == Role.LIAISON:
                return LiaisonAssignment.objects.filter(liaison=user, enterprise__cases=case).exists()
            if seat.role == Role.ENTERPRISE:
                return case.enterprises.filter(org_id=seat.org_id).exists()
    return False


def acting_seat(user: User, action: str, case: Case) -> Seat | None:
    """The membership that authorises `action` on `case` for `user`, or None."""
    transition = transition_for(case.state, action)
    if transition is None:
        return None
    for seat in seats(user):
        if seat_qualifies(user, seat, transition, case):
            return seat
    return None


def can(user: User, action: str, case: Case) -> bool:
    if not is_visible(user, case):
        return False
    if action == VIEW:
        return True
    return acting_seat(user, action, case) is not None


def escalating_seat(user: User, case: Case) -> Seat | None:
    """Who may escalate a case by hand (督办): a supervisor of its supervising body, or a liaison officer
    whose portfolio holds one of its enterprises."""
    for seat in seats(user):
        if seat.role == Role.SUPERVISOR and _supervises(seat, case):
            return seat
        if seat.role == Role.LIAISON and LiaisonAssignment.objects.filter(
                liaison=user, enterprise__cases=case).exists():
            return seat
    return None


def lead_unit_leader_seat(user: User, case: Case) -> Seat | None:
    """A unit leader of the case's lead unit (or of an organisation above it), e.g. to answer a 督办单."""
    leads = [a.org.path for a in _active_assignments(case) if a.role == Assignment.Role.LEAD]
    return next((s for s in seats(user) if s.role == Role.UNIT_LEADER and any(_under(p, s) for p in leads)), None)


def registering_seat(user: User) -> Seat | None:
    """The first membership that may register cases."""
    return next((s for s in seats(user) if s.role in REGISTER_ROLES), None)


def sees_internal_notes(user: User) -> bool:
    """Enterprises never see internal notes or other reporters' identities."""
    return any(s.role != Role.ENTERPRISE for s in seats(user))


def sees_reporter(user: User, case: Case) -> bool:
    """A reporter who asked for anonymity is never identified to the handling units."""
    if not seats(user):
        return False
    if case.registered_by_id is not None and case.registered_by_id == user.pk:
        return True
    if case.reporter_anonymous:
        return any(s.role in (Role.SUPERVISOR, Role.APPROVER, Role.INSPECTOR) and _supervises(s, case)
                   for s in seats(user))
    return sees_internal_notes(user)


EVIDENCE_STATES = frozenset({State.RECTIFYING, State.ON_LEDGER, State.AWAITING_ACCEPTANCE, State.CLOSED})
EVIDENCE_SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.INSPECTOR})


def evidence_seat(user: User, case: Case) -> Seat | None:
    """The membership that lets `user` add evidence outside a progress report: a handling unit
    while it may report progress, or the supervising side (acceptance, re-check) in any evidence state."""
    if case.state not in EVIDENCE_STATES:
        return None
    unit_seat = acting_seat(user, "report_progress", case)
    if unit_seat is not None:
        return unit_seat
    return next((s for s in seats(user) if s.role in EVIDENCE_SUPERVISING_ROLES and _supervises(s, case)), None)
