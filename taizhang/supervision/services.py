"""The only writers of recommendations, bulletins and meetings. Each service runs in one transaction:
scoped look-up (out of scope is NotFound), state check, policy check, compare-and-swap on
(pk, state, version), one audit event and one outbox row."""

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.audit.services import record_event
from taizhang.cases import policies as case_policies
from taizhang.cases.models import Case
from taizhang.cases.services import actor_context, diff
from taizhang.core import clock, files, outbox
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.documents.models import DocumentKind
from taizhang.documents.numbering import next_document_number
from taizhang.orgs.models import InspectionRound, Organisation
from taizhang.sla import deadlines
from taizhang.sla.models import TimeLimit
from taizhang.supervision import bulletins, policies
from taizhang.supervision.models import (
    Bulletin,
    Meeting,
    MeetingDecision,
    Recommendation,
    RecommendationEvidence,
    ReplyTimeLimit,
)

# Default reply time limit when no ReplyTimeLimit row is configured (the migration seeds this row).
DEFAULT_REPLY_LIMIT = deadlines.Limit(30, TimeLimit.Unit.DAYS)
DEFAULT_REPLY_BASIS = "被建议单位应在收到监察建议书之日起30日内书面回复整改情况"
RECOMMENDATION_FIELDS = ("kind", "title", "problems", "causes", "recommendations")
MAX_TEXT = 20000


# --- helpers -------------------------------------------------------------------------------------

def _text(value: Any, name: str, label: str, *, required: bool = True, max_length: int = MAX_TEXT) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(_("This field is required: %(field)s.") % {"field": label},
                               code="validation.required", field=name)
    if len(text) > max_length:
        raise ValidationFailed(_("%(field)s is too long.") % {"field": label}, code="validation.too_long",
                               field=name)
    return text


def _choice(value: Any, choices: Iterable[str], name: str) -> str:
    if value not in set(choices):
        raise ValidationFailed(_("Choose one of the options."), code="validation.invalid_choice", field=name)
    return str(value)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _org(value: Any, name: str) -> Organisation:
    if isinstance(value, Organisation):
        return value
    try:
        return Organisation.objects.get(pk=value, is_active=True)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise ValidationFailed(_("Unknown organisation."), code="validation.unknown_org", field=name) from None


def _orgs(values: Iterable[Any], name: str) -> list[Organisation]:
    return [_org(v, name) for v in values]


def _visible_cases(actor: User, numbers: Iterable[Any]) -> list[Case]:
    """Cases by public number (or instance) that the actor may see; any other is refused (422)."""
    wanted = sorted({v.number if isinstance(v, Case) else str(v).strip() for v in numbers} - {""})
    found = list(case_policies.scope(actor).filter(number__in=wanted).order_by("number"))
    missing = sorted(set(wanted) - {c.number for c in found})
    if missing:
        raise ValidationFailed(_("Unknown case: %(numbers)s.") % {"numbers": "、".join(missing)},
                               code="validation.unknown_case", field="cases")
    return found


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Enter a valid date."), code="validation.invalid_date", field=name) from None


def _swap(model: type[Model], obj: Any, *, source: str | None, expected: int, **changes: Any) -> None:
    """Compare-and-swap on (pk, state, version): a lost race is a Conflict, never an overwrite."""
    filters: dict[str, Any] = {"pk": obj.pk, "version": expected}
    if source is not None:
        filters["state"] = source
    if model._default_manager.filter(**filters).update(version=F("version") + 1, **changes) != 1:
        fresh = model._default_manager.only("version").get(pk=obj.pk)
        raise Conflict(_stale(), version=fresh.version)  # type: ignore[attr-defined]
    obj.refresh_from_db()


def _stale() -> str:
    return _("Someone else changed this in the meantime. Reload it and try again.")


def _expected(obj: Any, version: int | None) -> int:
    expected = obj.version if version is None else version
    if expected != obj.version:
        raise Conflict(_stale(), state=getattr(obj, "state", ""), version=obj.version)
    return int(expected)


def _illegal(state_label: Any) -> IllegalTransition:
    return IllegalTransition(_("This action is not possible while it is “%(state)s”.") % {"state": state_label},
                             code="workflow.illegal_transition")


def _serial_number(org: Organisation, kind: str, at: dt.datetime) -> str:
    """发文字号 of the issuing body for the document kind, drawn in this transaction (documents.numbering)."""
    return next_document_number(org, kind, timezone.localdate(at).year)


def _issuing_org(actor: User, value: Any) -> tuple[Organisation, case_policies.Seat]:
    org = _org(value, "issuing_org")
    seat = policies.supervising_seat(actor, org)
    if seat is None:
        raise PermissionDenied(_("Only a supervisor of the issuing body may do this."),
                               code="workflow.action_not_allowed")
    if org.kind != Organisation.Kind.SUPERVISORY or not org.code:
        raise ValidationFailed(_("Choose a supervisory body with a number prefix."),
                               code="validation.no_number_prefix", field="issuing_org")
    return org, seat


def _record(actor: User, seat: case_policies.Seat | None, action: str, object_type: str, obj: Any, *,
            before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    record_event(actor=actor_context(actor, seat), action=action, object_type=object_type, object_id=obj.pk,
                 object_repr=str(obj), before=before, after=after)
    outbox.enqueue(action, {object_type: obj.pk, "actor": actor.pk, **({"state": obj.state}
                                                                        if hasattr(obj, "state") else {})})


# --- recommendations -----------------------------------------------------------------------------

def reply_limit(kind: str) -> deadlines.Limit:
    """The configured reply time limit of a kind (its own row, else the "any kind" row, else 30 days)."""
    rows = {row.kind: deadlines.Limit(row.amount, row.unit) for row in ReplyTimeLimit.objects.all()}
    return rows.get(kind) or rows.get("") or DEFAULT_REPLY_LIMIT


def _get_in_scope[M: Model](rows: QuerySet[M], pk: int, *, for_update: bool) -> M:
    """One row of a scoped queryset by id; out of scope or malformed is a NotFound."""
    if for_update:
        rows = rows.select_for_update(of=("self",))
    try:
        return rows.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def get_recommendation_for(user: User, pk: int, *, for_update: bool = False) -> Recommendation:
    return _get_in_scope(policies.recommendations_scope(user).select_related("issuing_org", "addressed_org"), pk,
                         for_update=for_update)


def _recommendation_fields(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": _choice(inputs.get("kind"), Recommendation.Kind.values, "kind"),
        "title": _text(inputs.get("title"), "title", _("Title"), max_length=200),
        "problems": _text(inputs.get("problems"), "problems", _("Problems found")),
        "causes": _text(inputs.get("causes"), "causes", _("Causes"), required=False),
        "recommendations": _text(inputs.get("recommendations"), "recommendations", _("Recommendations")),
    }


def _links(actor: User, inputs: Mapping[str, Any]) -> tuple[list[Case], InspectionRound | None]:
    cases = _visible_cases(actor, inputs.get("cases") or ())
    rnd = inputs.get("inspection_round")
    if rnd is not None and not isinstance(rnd, InspectionRound):
        rnd = InspectionRound.objects.filter(pk=rnd).first() if str(rnd).isdigit() else None
        if rnd is None:
            raise ValidationFailed(_("Unknown inspection round."), code="validation.unknown_round",
                                   field="inspection_round")
    return cases, rnd


def _recommendation_snapshot(rec: Recommendation) -> dict[str, Any]:
    return {**{name: getattr(rec, name) for name in RECOMMENDATION_FIELDS},
            "addressed_org_id": rec.addressed_org_id, "inspection_round_id": rec.inspection_round_id,
            "cases": sorted(rec.cases.values_list("number", flat=True))}


@transaction.atomic
def create_recommendation(*, actor: User, issuing_org: Any, addressed_org: Any, **inputs: Any) -> Recommendation:
    """A draft 监察建议 of the issuing body, addressed to an organisation, linked to cases and a round."""
    issuer, seat = _issuing_org(actor, issuing_org)
    addressed = _org(addressed_org, "addressed_org")
    fields = _recommendation_fields(inputs)
    cases, rnd = _links(actor, inputs)
    now = clock.now()
    rec = Recommendation.objects.create(issuing_org=issuer, addressed_org=addressed, inspection_round=rnd,
                                        created_by=actor, created_at=now, updated_at=now, **fields)
    rec.cases.set(cases)
    _record(actor, seat, "recommendation.created", "recommendation", rec, after=_recommendation_snapshot(rec))
    return rec


@transaction.atomic
def update_recommendation(pk: int, *, actor: User, version: int | None = None, addressed_org: Any,
                          **inputs: Any) -> Recommendation:
    """Edit a draft (issued recommendations are a record and change only by reply and evaluation)."""
    rec = get_recommendation_for(actor, pk, for_update=True)
    if rec.state != Recommendation.State.DRAFT:
        raise _illegal(rec.get_state_display())
    seat = policies.issuing_seat(actor, rec)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    expected = _expected(rec, version)
    fields = _recommendation_fields(inputs)
    addressed = _org(addressed_org, "addressed_org")
    cases, rnd = _links(actor, inputs)
    before = _recommendation_snapshot(rec)
    _swap(Recommendation, rec, source=Recommendation.State.DRAFT, expected=expected, addressed_org=addressed,
          inspection_round=rnd, updated_at=clock.now(), **fields)
    rec.cases.set(cases)
    after = _recommendation_snapshot(rec)
    old, new = diff(before, after)
    _record(actor, seat, "recommendation.updated", "recommendation", rec, before=old, after=new)
    return rec


@transaction.atomic
def issue_recommendation(pk: int, *, actor: User, version: int | None = None) -> Recommendation:
    """Issue a draft: it gets its 发文字号 and the reply deadline of its kind's time limit."""
    rec = get_recommendation_for(actor, pk, for_update=True)
    if rec.state != Recommendation.State.DRAFT:
        raise _illegal(rec.get_state_display())
    seat = policies.issuing_seat(actor, rec)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    expected = _expected(rec, version)
    now = clock.now()
    limit = reply_limit(rec.kind)
    due = deadlines.end_of_day(deadlines.due_date(now, limit))
    _swap(Recommendation, rec, source=Recommendation.State.DRAFT, expected=expected,
          state=Recommendation.State.ISSUED, number=_serial_number(rec.issuing_org, DocumentKind.RECOMMENDATION, now),
          issued_at=now, issued_by=actor, reply_due_at=due, updated_at=now)
    _record(actor, seat, "recommendation.issued", "recommendation", rec,
            after={"number": rec.number, "reply_due_at": _json(due), "limit": f"{limit.amount} {limit.unit}",
                   "addressed_org": rec.addressed_org_id})
    return rec


def _store_reply_evidence(rec: Recommendation, upload: Any, *, actor: User) -> RecommendationEvidence:
    name = str(getattr(upload, "name", "") or "file")
    max_bytes: int = settings.TAIZHANG_MAX_UPLOAD_BYTES
    files.check_size(int(getattr(upload, "size", 0) or 0), max_bytes)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = bytes(upload.read(max_bytes + 1))
    kind = files.check_upload(name, data, max_bytes=max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    evidence = RecommendationEvidence(recommendation=rec, original_name=name[:200], content_type=kind.mime,
                                      size=len(data), sha256=digest, uploaded_by=actor, uploaded_at=clock.now())
    evidence.file.save(digest, ContentFile(data), save=False)
    evidence.save()
    return evidence


@transaction.atomic
def reply_to_recommendation(pk: int, *, actor: User, reply: str, evidence: Sequence[Any] = (),
                            version: int | None = None) -> Recommendation:
    """The addressed unit's written reply: the measures taken, with evidence files. Late replies are
    accepted and marked late in the audit event."""
    rec = get_recommendation_for(actor, pk, for_update=True)
    if rec.state != Recommendation.State.ISSUED:
        raise _illegal(rec.get_state_display())
    seat = policies.replying_seat(actor, rec)
    if seat is None:
        raise PermissionDenied(_("Only the addressed unit replies to a recommendation."),
                               code="workflow.action_not_allowed")
    expected = _expected(rec, version)
    text = _text(reply, "reply", _("Reply and measures taken"))
    now = clock.now()
    _swap(Recommendation, rec, source=Recommendation.State.ISSUED, expected=expected,
          state=Recommendation.State.REPLIED, reply=text, replied_at=now, replied_by=actor, updated_at=now)
    stored = [_store_reply_evidence(rec, upload, actor=actor) for upload in evidence]
    late = rec.reply_due_at is not None and now > rec.reply_due_at
    _record(actor, seat, "recommendation.replied", "recommendation", rec,
            after={"reply": text, "late": late, "evidence": [{"id": e.pk, "name": e.original_name,
                                                              "sha256": e.sha256} for e in stored]})
    return rec


@transaction.atomic
def evaluate_recommendation(pk: int, *, actor: User, outcome: str, evaluation: str,
                            version: int | None = None) -> Recommendation:
    """The issuing side's evaluation of the reply: adopted, partly adopted or not adopted."""
    rec = get_recommendation_for(actor, pk, for_update=True)
    if rec.state != Recommendation.State.REPLIED:
        raise _illegal(rec.get_state_display())
    seat = policies.issuing_seat(actor, rec)
    if seat is None:
        raise PermissionDenied(_("Only the issuing body evaluates the reply."), code="workflow.action_not_allowed")
    expected = _expected(rec, version)
    outcome = _choice(outcome, Recommendation.Outcome.values, "outcome")
    opinion = _text(evaluation, "evaluation", _("Evaluation opinion"))
    now = clock.now()
    _swap(Recommendation, rec, source=Recommendation.State.REPLIED, expected=expected,
          state=Recommendation.State.EVALUATED, outcome=outcome, evaluation=opinion, evaluated_at=now,
          evaluated_by=actor, updated_at=now)
    _record(actor, seat, "recommendation.evaluated", "recommendation", rec,
            after={"outcome": outcome, "evaluation": opinion})
    return rec


# --- bulletins -----------------------------------------------------------------------------------

def get_bulletin_for(user: User, pk: int, *, for_update: bool = False) -> Bulletin:
    return _get_in_scope(policies.bulletins_scope(user).select_related("issuing_org"), pk, for_update=for_update)


@transaction.atomic
def generate_bulletin(*, actor: User, issuing_org: Any, period_start: Any, period_end: Any,
                      units: Sequence[Any], title: str = "") -> Bulletin:
    """A draft 通报 for the period and units, generated from the KPIs and the ledger, to be edited."""
    issuer, seat = _issuing_org(actor, issuing_org)
    start, end = _date(period_start, "period_start"), _date(period_end, "period_end")
    if end < start:
        raise ValidationFailed(_("The period ends before it starts."), code="validation.invalid_period",
                               field="period_end")
    covered = _orgs(units, "units")
    if not covered:
        raise ValidationFailed(_("Choose at least one unit."), code="validation.required", field="units")
    draft = bulletins.generate(actor, start=start, end=end, units=covered)
    now = clock.now()
    bulletin = Bulletin.objects.create(
        title=_text(title, "title", _("Title"), required=False, max_length=200) or draft.title,
        issuing_org=issuer, period_start=start, period_end=end, sections=draft.sections, ranking=draft.ranking,
        case_numbers=draft.case_numbers, created_by=actor, created_at=now, updated_at=now)
    bulletin.units.set(covered)
    bulletin.distribution.set(covered)
    _record(actor, seat, "bulletin.generated", "bulletin", bulletin,
            after={"period": [start.isoformat(), end.isoformat()], "units": [o.pk for o in covered],
                   "cases": draft.case_numbers})
    return bulletin


@transaction.atomic
def edit_bulletin(pk: int, *, actor: User, version: int | None = None, title: str | None = None,
                  sections: Mapping[str, str] | None = None,
                  distribution: Sequence[Any] | None = None) -> Bulletin:
    """Edit a draft's title, section texts (by key) and distribution list."""
    bulletin = get_bulletin_for(actor, pk, for_update=True)
    if bulletin.state != Bulletin.State.DRAFT:
        raise _illegal(bulletin.get_state_display())
    seat = policies.bulletin_writing_seat(actor, bulletin)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    expected = _expected(bulletin, version)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _text(title, "title", _("Title"), max_length=200)
    if sections is not None:
        keys = {s["key"] for s in bulletin.sections}
        unknown = sorted(set(sections) - keys)
        if unknown:
            raise ValidationFailed(_("Unknown section: %(names)s.") % {"names": "、".join(unknown)},
                                   code="validation.unknown_section", field="sections")
        changes["sections"] = [{**s, "text": _text(sections[s["key"]], "sections", s["heading"], required=False)
                                if s["key"] in sections else s["text"]} for s in bulletin.sections]
    receivers = _orgs(distribution, "distribution") if distribution is not None else None
    if receivers is not None and not receivers:
        raise ValidationFailed(_("The distribution list is empty."), code="validation.required",
                               field="distribution")
    before = {"title": bulletin.title, "sections": bulletin.sections,
              "distribution": sorted(bulletin.distribution.values_list("pk", flat=True))}
    _swap(Bulletin, bulletin, source=Bulletin.State.DRAFT, expected=expected, updated_at=clock.now(), **changes)
    if receivers is not None:
        bulletin.distribution.set(receivers)
    after = {"title": bulletin.title, "sections": bulletin.sections,
             "distribution": sorted(bulletin.distribution.values_list("pk", flat=True))}
    old, new = diff(before, after)
    _record(actor, seat, "bulletin.edited", "bulletin", bulletin, before=old, after=new)
    return bulletin


@transaction.atomic
def issue_bulletin(pk: int, *, actor: User, version: int | None = None) -> Bulletin:
    bulletin = get_bulletin_for(actor, pk, for_update=True)
    if bulletin.state != Bulletin.State.DRAFT:
        raise _illegal(bulletin.get_state_display())
    seat = policies.bulletin_writing_seat(actor, bulletin)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    expected = _expected(bulletin, version)
    if not bulletin.distribution.exists():
        raise ValidationFailed(_("The distribution list is empty."), code="validation.required",
                               field="distribution")
    now = clock.now()
    _swap(Bulletin, bulletin, source=Bulletin.State.DRAFT, expected=expected, state=Bulletin.State.ISSUED,
          number=_serial_number(bulletin.issuing_org, DocumentKind.BULLETIN, now), issued_at=now, issued_by=actor,
          updated_at=now)
    _record(actor, seat, "bulletin.issued", "bulletin", bulletin,
            after={"number": bulletin.number,
                   "distribution": sorted(bulletin.distribution.values_list("pk", flat=True))})
    return bulletin


@transaction.atomic
def publish_bulletin(pk: int, *, actor: User, version: int | None = None) -> Bulletin:
    """Publish the redacted public version of an issued bulletin: no personal names, no reporter, no
    enterprise contact data (bulletins.redact)."""
    bulletin = get_bulletin_for(actor, pk, for_update=True)
    if bulletin.state != Bulletin.State.ISSUED or bulletin.published_at is not None:
        raise _illegal(bulletin.get_state_display())
    seat = policies.bulletin_writing_seat(actor, bulletin)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    expected = _expected(bulletin, version)
    public = bulletins.public_sections(actor, bulletin)
    _swap(Bulletin, bulletin, source=Bulletin.State.ISSUED, expected=expected, public_sections=public,
          published_at=clock.now(), updated_at=clock.now())
    _record(actor, seat, "bulletin.published", "bulletin", bulletin, after={"public_sections": public})
    return bulletin


# --- meetings ------------------------------------------------------------------------------------

def get_meeting_for(user: User, pk: int, *, for_update: bool = False) -> Meeting:
    return _get_in_scope(policies.meetings_scope(user).select_related("convening_org"), pk, for_update=for_update)


@transaction.atomic
def record_meeting(*, actor: User, convening_org: Any, kind: str, title: str, held_on: Any, topics: str,
                   location: str = "", participant_orgs: Sequence[Any] = (),
                   participants: Sequence[Any] = ()) -> Meeting:
    """Record a 会商 or 联合督查: date, place, participating people and organisations, topics."""
    org = _org(convening_org, "convening_org")
    seat = policies.supervising_seat(actor, org)
    if seat is None:
        raise PermissionDenied(_("Only a supervisor of the convening body records its meetings."),
                               code="workflow.action_not_allowed")
    people = list(User.objects.filter(pk__in=[getattr(p, "pk", p) for p in participants], is_active=True))
    if len(people) != len({getattr(p, "pk", p) for p in participants}):
        raise ValidationFailed(_("Unknown participant."), code="validation.unknown_user", field="participants")
    meeting = Meeting.objects.create(
        kind=_choice(kind, Meeting.Kind.values, "kind"), title=_text(title, "title", _("Title"), max_length=200),
        held_on=_date(held_on, "held_on"), location=_text(location, "location", _("Place"), required=False,
                                                          max_length=120),
        topics=_text(topics, "topics", _("Topics")), convening_org=org, created_by=actor, created_at=clock.now())
    meeting.participant_orgs.set(_orgs(participant_orgs, "participant_orgs"))
    meeting.participants.set(people)
    _record(actor, seat, "meeting.recorded", "meeting", meeting,
            after={"kind": meeting.kind, "held_on": meeting.held_on.isoformat(), "title": meeting.title,
                   "participant_orgs": sorted(meeting.participant_orgs.values_list("pk", flat=True)),
                   "participants": sorted(p.pk for p in people)})
    return meeting


def _case_events(actor: User, seat: case_policies.Seat | None, action: str, decision: MeetingDecision,
                 cases: Iterable[Case], after: dict[str, Any]) -> None:
    """The decision on each linked case's own record, so the case timeline shows it."""
    for case in cases:
        record_event(actor=actor_context(actor, seat), action=action, object_type="case", object_id=case.number,
                     object_repr=case.title, after=after)
        outbox.enqueue(action, {"case": case.number, "meeting": decision.meeting_id, "decision": decision.pk,
                                "actor": actor.pk})


@transaction.atomic
def add_decision(meeting_pk: int, *, actor: User, text: str, assignee_org: Any, due_on: Any,
                 cases: Sequence[Any] = (), version: int | None = None) -> MeetingDecision:
    """A decision of the meeting: a follow-up task for an organisation by a date, linked to cases."""
    meeting = get_meeting_for(actor, meeting_pk, for_update=True)
    seat = policies.meeting_writing_seat(actor, meeting)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    expected = _expected(meeting, version)
    body = _text(text, "text", _("Decision"), max_length=4000)
    assignee = _org(assignee_org, "assignee_org")
    due = _date(due_on, "due_on")
    linked = _visible_cases(actor, cases)
    _swap(Meeting, meeting, source=None, expected=expected)
    decision = MeetingDecision.objects.create(meeting=meeting, text=body, assignee_org=assignee, due_on=due)
    decision.cases.set(linked)
    facts = {"meeting": meeting.pk, "meeting_title": meeting.title, "meeting_kind": meeting.kind,
             "held_on": meeting.held_on.isoformat(), "decision": decision.pk, "text": body,
             "assignee_org": assignee.pk, "assignee_org_name": assignee.name, "due_on": due.isoformat()}
    _record(actor, seat, "meeting.decision_added", "meeting", meeting,
            after={**facts, "cases": [c.number for c in linked]})
    _case_events(actor, seat, "case.meeting_decision", decision, linked, facts)
    return decision


@transaction.atomic
def complete_decision(decision_pk: int, *, actor: User, note: str) -> MeetingDecision:
    """Mark a decision carried out (once; a second attempt is refused and changes nothing)."""
    decision = MeetingDecision.objects.filter(
        pk=decision_pk, meeting__in=policies.meetings_scope(actor)).select_related("meeting", "assignee_org",
                                                                                  "meeting__convening_org").first()
    if decision is None:
        raise NotFound()
    seat = policies.decision_seat(actor, decision)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    done_note = _text(note, "note", _("How it was carried out"), max_length=4000)
    now = clock.now()
    if not MeetingDecision.objects.filter(pk=decision.pk, done_at__isnull=True).update(
            done_at=now, done_by=actor, done_note=done_note):
        raise IllegalTransition(_("This decision has been carried out already."), code="workflow.illegal_transition")
    decision.refresh_from_db()
    facts = {"meeting": decision.meeting_id, "meeting_title": decision.meeting.title, "decision": decision.pk,
             "text": decision.text, "note": done_note}
    _record(actor, seat, "meeting.decision_done", "meeting", decision.meeting, after=facts)
    _case_events(actor, seat, "case.meeting_decision_done", decision, decision.cases.all(), facts)
    return decision
