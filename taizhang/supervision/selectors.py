"""Scoped reads of recommendations, bulletins and meetings. Every query starts from `policies`."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.models import User
from taizhang.audit.models import AuditEvent
from taizhang.cases.selectors import TimelineEntry
from taizhang.core.errors import NotFound
from taizhang.orgs.models import Organisation
from taizhang.supervision import policies
from taizhang.supervision.models import Bulletin, Meeting, MeetingDecision, Recommendation, RecommendationEvidence
from taizhang.supervision.services import get_bulletin_for, get_meeting_for, get_recommendation_for

RECOMMENDATION_STATES = Recommendation.State.choices
EVENT_VERBS: dict[str, Any] = {
    "recommendation.created": _("drafted the recommendation"),
    "recommendation.updated": _("edited the draft"),
    "recommendation.issued": _("issued the recommendation"),
    "recommendation.replied": _("replied in writing"),
    "recommendation.evaluated": _("evaluated the reply"),
    "recommendation.reminded": _("sent a reminder of the reply deadline"),
    "recommendation.overdue": _("flagged the reply overdue and told the issuing body"),
    "recommendation.escalated": _("escalated the overdue reply"),
    "bulletin.generated": _("generated the draft bulletin"),
    "bulletin.edited": _("edited the draft bulletin"),
    "bulletin.issued": _("issued the bulletin"),
    "bulletin.published": _("published the public version"),
    "meeting.recorded": _("recorded the meeting"),
    "meeting.decision_added": _("recorded a decision"),
    "meeting.decision_done": _("marked a decision carried out"),
    "document.issued": _("issued the official document"),
}


@dataclass(frozen=True)
class RecommendationPage:
    recommendation: Recommendation
    cases: list[Any]
    evidence: list[RecommendationEvidence]
    timeline: list[TimelineEntry]
    may_edit: bool
    may_reply: bool
    may_evaluate: bool


def _sentence(event: AuditEvent) -> str:
    who = " ".join(part for part in (event.actor_org, event.actor_name) if part) or str(_("The system"))
    return f"{who} {EVENT_VERBS.get(event.action, event.action)}"


def _timeline(object_type: str, pk: int) -> list[TimelineEntry]:
    events = AuditEvent.objects.filter(object_type=object_type, object_id=str(pk)).order_by("seq")
    return [TimelineEntry(at=e.occurred_at, actor=e.actor_name, action=e.action, sentence=_sentence(e),
                          details=e.after) for e in events]


def recommendations_visible_to(user: User, *, state: str = "") -> QuerySet[Recommendation]:
    rows = policies.recommendations_scope(user).select_related("issuing_org", "addressed_org")
    return rows.filter(state=state) if state else rows


def recommendation_page(user: User, pk: int) -> RecommendationPage:
    rec = get_recommendation_for(user, pk)
    draft = rec.state == Recommendation.State.DRAFT
    issuing = policies.issuing_seat(user, rec) is not None
    return RecommendationPage(
        recommendation=rec, cases=list(rec.cases.order_by("number").values("number", "title", "state")),
        evidence=list(rec.evidence.all()), timeline=_timeline("recommendation", rec.pk),
        may_edit=draft and issuing,
        may_reply=rec.state == Recommendation.State.ISSUED and policies.replying_seat(user, rec) is not None,
        may_evaluate=rec.state == Recommendation.State.REPLIED and issuing)


def recommendation_evidence(user: User, pk: int, evidence_id: int) -> RecommendationEvidence:
    rec = get_recommendation_for(user, pk)
    found = rec.evidence.filter(pk=evidence_id).first()
    if found is None:
        raise NotFound()
    return found


def bulletins_visible_to(user: User) -> QuerySet[Bulletin]:
    return policies.bulletins_scope(user).select_related("issuing_org")


def bulletin_for(user: User, pk: int) -> Bulletin:
    return get_bulletin_for(user, pk)


def bulletin_timeline(bulletin: Bulletin) -> list[TimelineEntry]:
    return _timeline("bulletin", bulletin.pk)


def may_write_bulletin(user: User, bulletin: Bulletin) -> bool:
    return policies.bulletin_writing_seat(user, bulletin) is not None


def published_bulletin(pk: int) -> Bulletin:
    """The public version of a published bulletin, for anyone; anything else is not found."""
    found = Bulletin.objects.select_related("issuing_org").filter(pk=pk, published_at__isnull=False).first()
    if found is None:
        raise NotFound()
    return found


def meetings_visible_to(user: User) -> QuerySet[Meeting]:
    return policies.meetings_scope(user).select_related("convening_org")


@dataclass(frozen=True)
class DecisionRow:
    decision: MeetingDecision
    cases: list[str]
    overdue: bool
    may_complete: bool


@dataclass(frozen=True)
class MeetingPage:
    meeting: Meeting
    decisions: list[DecisionRow]
    timeline: list[TimelineEntry]
    may_add_decision: bool


def meeting_page(user: User, pk: int, *, today: dt.date) -> MeetingPage:
    meeting = get_meeting_for(user, pk)
    rows = []
    for decision in meeting.decisions.select_related("assignee_org", "meeting__convening_org").prefetch_related(
            "cases"):
        rows.append(DecisionRow(decision=decision, cases=sorted(c.number for c in decision.cases.all()),
                                overdue=decision.done_at is None and decision.due_on < today,
                                may_complete=decision.done_at is None
                                and policies.decision_seat(user, decision) is not None))
    return MeetingPage(meeting=meeting, decisions=rows, timeline=_timeline("meeting", meeting.pk),
                       may_add_decision=policies.meeting_writing_seat(user, meeting) is not None)


def issuing_orgs(user: User) -> list[Organisation]:
    """The supervisory bodies (with a number prefix) the user may issue documents or convene meetings for."""
    paths = [s.org_path for s in policies.supervisory_seats(user)]
    return [o for o in Organisation.objects.filter(kind=Organisation.Kind.SUPERVISORY, is_active=True)
            .exclude(code="").order_by("path") if any(o.path.startswith(p) for p in paths)]
