"""Who may see and do what with recommendations, bulletins and meetings, built on the case policies' seats.

- Recommendations: the issuing supervisory body and the bodies above it (supervisors, approvers, read-only
  leaders) see them from the draft on and alone write, issue and evaluate them; once issued, the
  addressed organisation and its subtree see them, and its unit leaders and handlers reply.
- Bulletins: the issuing body and above; once issued, every organisation on the distribution list or
  covered by it (and their subtrees). The published public version is open to everyone.
- Meetings: the convening body and above, participating organisations (and subtrees), participants
  and the organisations a decision is assigned to. Supervisors of the convening body record them.

Anything else is out of scope: a 404, like a case.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.cases.policies import SUPERVISORY_VIEW_ROLES, UNIT_VIEW_ROLES, Seat, seats
from taizhang.orgs.models import Organisation
from taizhang.supervision.models import Bulletin, Meeting, MeetingDecision, Recommendation

REPLY_ROLES = frozenset({Role.UNIT_LEADER, Role.HANDLER})


def _or(parts: list[Q]) -> Q | None:
    combined: Q | None = None
    for part in parts:
        combined = part if combined is None else combined | part
    return combined


def _above(field: str, seat: Seat) -> Q:
    """The row's organisation `field` lies at or below the seat's organisation."""
    return Q(**{f"{field}__path__startswith": seat.org_path})


def _ancestor_ids(seat: Seat) -> list[int]:
    """The seat's organisation and those above it, from its materialised path ("/1/4/9/")."""
    return [int(part) for part in seat.org_path.strip("/").split("/") if part]


def _related_org_q(field: str, seat: Seat) -> Q:
    """An organisation in `field` is the seat's, above it (the seat lies in its subtree) or below it."""
    return Q(**{f"{field}__in": _ancestor_ids(seat)}) | Q(**{f"{field}__path__startswith": seat.org_path})


def supervising_seat(user: User, org: Organisation) -> Seat | None:
    """A supervisor seated at `org` or above it: may write for it (recommendations, bulletins, meetings)."""
    return next((s for s in seats(user) if s.role == Role.SUPERVISOR and org.path.startswith(s.org_path)), None)


def supervisory_seats(user: User) -> list[Seat]:
    """The user's supervisor seats at supervisory bodies: where they may issue from."""
    return [s for s in seats(user) if s.role == Role.SUPERVISOR]


# --- recommendations -----------------------------------------------------------------------------

def recommendations_scope(user: User) -> QuerySet[Recommendation]:
    parts = []
    for seat in seats(user):
        if seat.role in SUPERVISORY_VIEW_ROLES:
            parts.append(_above("issuing_org", seat))
        if seat.role in UNIT_VIEW_ROLES:
            parts.append(_related_org_q("addressed_org", seat) & ~Q(state=Recommendation.State.DRAFT))
    q = _or(parts)
    return Recommendation.objects.none() if q is None else Recommendation.objects.filter(q)


def issuing_seat(user: User, recommendation: Recommendation) -> Seat | None:
    return supervising_seat(user, recommendation.issuing_org)


def replying_seat(user: User, recommendation: Recommendation) -> Seat | None:
    path = recommendation.addressed_org.path
    return next((s for s in seats(user) if s.role in REPLY_ROLES and s.org_path.startswith(path)), None)


# --- bulletins -----------------------------------------------------------------------------------

def bulletins_scope(user: User) -> QuerySet[Bulletin]:
    parts = []
    for seat in seats(user):
        if seat.role in SUPERVISORY_VIEW_ROLES:
            parts.append(_above("issuing_org", seat))
        if seat.role in UNIT_VIEW_ROLES:
            told = Q(Exists(Bulletin.distribution.through.objects.filter(
                Q(organisation_id__in=_ancestor_ids(seat)) | Q(organisation__path__startswith=seat.org_path),
                bulletin_id=OuterRef("pk"))))
            covered = Q(Exists(Bulletin.units.through.objects.filter(
                Q(organisation_id__in=_ancestor_ids(seat)) | Q(organisation__path__startswith=seat.org_path),
                bulletin_id=OuterRef("pk"))))
            parts.append(Q(state=Bulletin.State.ISSUED) & (told | covered))
    q = _or(parts)
    return Bulletin.objects.none() if q is None else Bulletin.objects.filter(q)


def bulletin_writing_seat(user: User, bulletin: Bulletin) -> Seat | None:
    return supervising_seat(user, bulletin.issuing_org)


# --- meetings ------------------------------------------------------------------------------------

def meetings_scope(user: User) -> QuerySet[Meeting]:
    if not seats(user):
        return Meeting.objects.none()
    parts = [Q(Exists(Meeting.participants.through.objects.filter(meeting_id=OuterRef("pk"), user_id=user.pk)))]
    for seat in seats(user):
        if seat.role in SUPERVISORY_VIEW_ROLES:
            parts.append(_above("convening_org", seat))
        if seat.role in UNIT_VIEW_ROLES:
            taking_part = Meeting.participant_orgs.through.objects.filter(
                _related_org_q("organisation", seat), meeting_id=OuterRef("pk"))
            assigned = MeetingDecision.objects.filter(_related_org_q("assignee_org", seat), meeting_id=OuterRef("pk"))
            parts.append(Q(Exists(taking_part)) | Q(Exists(assigned)))
    q = _or(parts)
    return Meeting.objects.none() if q is None else Meeting.objects.filter(q)


def meeting_writing_seat(user: User, meeting: Meeting) -> Seat | None:
    return supervising_seat(user, meeting.convening_org)


def decision_seat(user: User, decision: MeetingDecision) -> Seat | None:
    """Who marks a decision done: the assignee organisation (or below) or a supervisor of the convening body."""
    for seat in seats(user):
        if seat.role in REPLY_ROLES and seat.org_path.startswith(decision.assignee_org.path):
            return seat
    return meeting_writing_seat(user, decision.meeting)
