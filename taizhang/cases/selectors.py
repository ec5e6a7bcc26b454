"""Scoped reads of cases. Every query starts from `policies.scope()`."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.models import User
from taizhang.audit.models import AuditEvent
from taizhang.cases import policies
from taizhang.cases.models import Case

EVENT_VERBS: dict[str, Any] = {
    "case.registered": _("registered the case"),
    "case.generated": _("registered the case (bulk)"),
    "case.assessment_started": _("started the assessment"),
    "case.dismissed": _("dismissed the case"),
    "case.merged": _("merged the case into another"),
    "case.handover_proposed": _("proposed the handover"),
    "case.handed_over": _("approved the handover"),
    "case.handover_rejected": _("rejected the handover proposal"),
    "case.signed_for": _("signed for the case"),
    "case.declined": _("returned the handover"),
    "case.assignment_signed_for": _("signed for the co-handling part"),
    "case.plan_filed": _("filed the rectification plan"),
    "case.progress_reported": _("reported progress"),
    "case.assignment_completed": _("marked their part done"),
    "case.extension_requested": _("requested an extension"),
    "case.extension_decided": _("decided on the extension request"),
    "case.put_on_ledger": _("kept the case on the ledger"),
    "case.resumed": _("resumed rectification"),
    "case.submitted_for_acceptance": _("submitted the case for acceptance"),
    "case.accepted": _("accepted the rectification"),
    "case.returned_for_rework": _("returned the case for rework"),
    "case.followup_recorded": _("recorded a follow-up"),
    "case.followup_waived": _("waived the follow-up"),
    "case.followup_link_issued": _("issued a follow-up link to the enterprise"),
    "case.ledger_review_reached": _("returned the case to rectification: its ledger review date was reached"),
    "case.closed": _("closed the case"),
    "case.rechecked": _("recorded a re-check"),
    "case.evidence_added": _("added evidence"),
    "case.reminded": _("sent a reminder of the coming deadline"),
    "case.overdue": _("flagged the case overdue and told the unit leader"),
    "case.escalated": _("escalated the case to the parent leadership"),
    "supervision_order.issued": _("issued a supervision order"),
    "document.issued": _("generated an official document"),
    "supervision_order.overdue": _("flagged the supervision order unanswered"),
    "supervision_order.replied": _("answered the supervision order"),
    "case.escalation_responded": _("responded to the escalation"),
    "case.meeting_decision": _("recorded a meeting decision on the case"),
    "case.meeting_decision_done": _("carried out a meeting decision on the case"),
}
# Events whose sentence quotes one of their facts to people who see internal details.
QUOTED_DETAIL: dict[str, str] = {"case.meeting_decision": "text", "case.meeting_decision_done": "text",
                                 "document.issued": "number"}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    actor: str
    action: str
    sentence: str
    details: dict[str, Any]


def cases_visible_to(user: User) -> QuerySet[Case]:
    return policies.scope(user)


def describe(event: AuditEvent, *, show_person: bool = True) -> str:
    verb = EVENT_VERBS.get(event.action, event.action)
    who = " ".join(part for part in (event.actor_org, event.actor_name if show_person else "") if part)
    system = _("The system")
    sentence = f"{who or system} {verb}"
    quoted = event.after.get(QUOTED_DETAIL.get(event.action, "")) if show_person and event.after else None
    return f"{sentence}：{quoted}" if quoted else sentence


def case_timeline(user: User, case: Case) -> list[TimelineEntry]:
    """The case's audit events in order, told in plain words. Enterprises see units, not people,
    and no internal details."""
    if not policies.is_visible(user, case):
        return []
    internal = policies.sees_internal_notes(user)
    events = AuditEvent.objects.filter(object_type="case", object_id=case.number).order_by("seq")
    return [
        TimelineEntry(
            at=event.occurred_at,
            actor=event.actor_name if internal else event.actor_org,
            action=event.action,
            sentence=describe(event, show_person=internal),
            details=event.after if internal else {},
        )
        for event in events
    ]
