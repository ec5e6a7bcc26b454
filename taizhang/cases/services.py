"""The only writers of cases. Each service runs in one transaction: policy check, compare-and-swap
on (pk, state, version), one audit event and one outbox row.

Every workflow action has a named service (`sign_for_case`, `accept_case`, …); `perform_action`
dispatches by action name for the UI and the API.
"""

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F, Max, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.audit.services import ActorContext, record_event
from taizhang.cases import followup_links, policies
from taizhang.cases.checklists import checklist_labels
from taizhang.cases.models import (
    Acceptance,
    Assignment,
    Case,
    Category,
    Evidence,
    ExtensionRequest,
    FollowUp,
    PlanItem,
    ProgressReport,
    Recheck,
)
from taizhang.cases.workflow import (
    ACTIONS,
    UNREACHABLE_ATTEMPTS_BEFORE_WAIVER,
    Clock,
    Party,
    State,
    Transition,
    action_label,
    actions_from,
    clocks_started,
    clocks_stopped,
    input_label,
    transition_for,
)
from taizhang.core import clock, files, outbox, rows
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.core.numbering import next_public_number
from taizhang.orgs.models import Enterprise, InspectionRound, LiaisonAssignment, Organisation
from taizhang.search.indexing import index_cases, index_new_case
from taizhang.sla import deadlines

CLOCK_COLUMNS: dict[Clock, str] = {
    Clock.SIGN_FOR: "sign_for_due_at",
    Clock.DECLINE_WINDOW: "decline_due_at",
    Clock.PROGRESS_REPORT: "next_report_due_at",
    Clock.COMPLETION: "completion_due_at",
    Clock.LEDGER_REVIEW: "ledger_review_due_at",
    Clock.FOLLOWUP: "followup_due_at",
    Clock.RECHECK: "recheck_due_at",
}
AUDITED_FIELDS = (
    "state", "version", "title", "category_id", "mode", "severity", "responsible_org_id", "responsible_leader",
    "responsible_person", "goal", "deadline_on", "progress_summary", "institution_building", "closure_opinion",
    "closed_at", "escalation_level", "reopen_count", "rework_count", "merged_into_id", "followup_waived_reason",
    "evidence_counted_after",
    *CLOCK_COLUMNS.values(), "clock_paused_at",
)
# The sweeper's record of the highest ladder step applied to the current run of each clock (sla.sweeper).
LADDER_STEP_COLUMNS: dict[Clock, str] = {
    Clock.SIGN_FOR: "sign_for_step", Clock.PROGRESS_REPORT: "progress_step", Clock.COMPLETION: "completion_step",
}
# Escalation (sla) runs while the units handle the case; leaving these states resets the level to 0.
ESCALATION_STATES = frozenset({State.HANDED_OVER, State.RECTIFYING, State.ON_LEDGER})
SATISFIED_AT_LEAST = FollowUp.Satisfaction.BASICALLY_SATISFIED
# Required inputs whose presence depends on other inputs or on the actor: their handler checks them.
HANDLER_VALIDATED = frozenset({"granted", "held", "solved", "checklist", "satisfaction", "channel"})


# --- helpers -------------------------------------------------------------------------------------

def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def snapshot(case: Case, names: Iterable[str] = AUDITED_FIELDS) -> dict[str, Any]:
    return {name: _json(getattr(case, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


def actor_context(user: User, seat: policies.Seat | None) -> ActorContext:
    return ActorContext(
        user_id=user.pk, name=str(user), role=seat.role.value if seat else "",
        org_id=seat.org_id if seat else None, org_name=seat.org_name if seat else "",
    )


def _required(value: Any, name: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}:
        raise ValidationFailed(_("This field is required: %(field)s.") % {"field": input_label(name)},
                               code="validation.required", field=name)
    return value.strip() if isinstance(value, str) else value


def _end_of_day(day: dt.date) -> dt.datetime:
    return deadlines.end_of_day(day)


def _deadline(case: Case, which: Clock, start: dt.datetime) -> dt.datetime:
    category_ids = case.category.ancestor_ids() if case.category_id and case.category else []
    return deadlines.deadline(which, start=start, category_ids=category_ids, mode=case.mode)


def get_case_for(user: User, number: str, *, for_update: bool = False) -> Case:
    """The case with this public number if `user` may see it; otherwise NotFound (never 403)."""
    cases = policies.scope(user).select_related("supervising_org", "category", "inspection_round__group")
    if for_update:
        cases = cases.select_for_update(of=("self",))
    try:
        return cases.get(number=number)
    except Case.DoesNotExist:
        raise NotFound() from None


@dataclass
class Step:
    """What a transition handler decides: the outcome and the case fields to change."""

    outcome: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)  # extra facts for the audit event
    clocks: dict[Clock, dt.datetime] = field(default_factory=dict)  # explicit clock values
    seat: "policies.Seat | None" = None  # the membership that authorised an outcome, when not the acting one


@dataclass
class Context:
    case: Case
    actor: User
    seat: policies.Seat
    transition: Transition
    inputs: dict[str, Any]
    now: dt.datetime


Handler = Callable[[Context], Step]
HANDLERS: dict[str, Handler] = {}


def handles(action: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[action] = func
        return func

    return register


def _no_step(ctx: Context) -> Step:
    return Step()


@transaction.atomic
def perform_action(case: Case | str, action: str, *, actor: User, version: int | None = None,
                   **inputs: Any) -> Case:
    """Run `action` on `case` for `actor`. `version`, when given, must equal the case's version.

    The case row is locked first, so concurrent actions on one case queue up and each one checks
    the state and version its predecessor committed; the compare-and-swap below stays as a guard."""
    if action not in ACTIONS:
        raise ValidationFailed(_("Unknown action: %(action)s.") % {"action": action}, code="workflow.unknown_action")
    number = case if isinstance(case, str) else case.number
    current = get_case_for(actor, number, for_update=True)
    transition = transition_for(current.state, action)
    if transition is None:
        raise IllegalTransition(
            _("“%(action)s” is not possible while the case is “%(state)s”.")
            % {"action": action_label(action), "state": State(current.state).label},
            code="workflow.illegal_transition", state=current.state, version=current.version,
        )
    seat = policies.acting_seat(actor, action, current)
    if seat is None:
        if (transition.party == Party.INDEPENDENT and any(s.role in transition.roles for s in policies.seats(actor))
                and policies.handles_case(actor, current)):
            raise PermissionDenied(_("You belong to a unit handling this case: acceptance is for someone "
                                     "independent of it."), code="workflow.acceptor_from_handling_unit",
                                   state=current.state)
        raise PermissionDenied(code="workflow.action_not_allowed", state=current.state)
    expected = current.version if version is None else version
    if expected != current.version:
        raise Conflict(state=current.state, version=current.version)
    clean = {name: inputs.get(name) for name in transition.input_names}
    unexpected = set(inputs) - set(transition.input_names)
    if unexpected:
        raise ValidationFailed(_("Unexpected input: %(names)s.") % {"names": "、".join(sorted(unexpected))},
                               code="validation.unexpected_input")
    for name in transition.required_inputs:
        if name not in HANDLER_VALIDATED:
            clean[name] = _required(clean[name], name)
    now = clock.now()
    ctx = Context(case=current, actor=actor, seat=seat, transition=transition, inputs=clean, now=now)
    before = snapshot(current)
    step = HANDLERS.get(action, _no_step)(ctx)
    return _apply(current, transition, step, before=before, expected=expected, now=now,
                  actor=actor_context(actor, step.seat or seat), actor_id=actor.pk)


def _apply(current: Case, transition: Transition, step: Step, *, before: dict[str, Any], expected: int,
           now: dt.datetime, actor: ActorContext, actor_id: int | None) -> Case:
    """The common end of every transition: clocks, compare-and-swap, search index, audit event, outbox."""
    target = transition.targets[step.outcome]
    changes = dict(step.changes)
    for which in clocks_stopped(transition, step.outcome):
        changes.setdefault(CLOCK_COLUMNS[which], None)
    for which in clocks_started(transition, step.outcome):
        changes[CLOCK_COLUMNS[which]] = step.clocks.get(which) or _deadline(current, which, now)
    if changes.get(CLOCK_COLUMNS[Clock.COMPLETION], ...) is None:
        changes.setdefault("clock_paused_at", None)
    for which, ladder_column in LADDER_STEP_COLUMNS.items():  # a new deadline starts a fresh ladder (sla)
        column = CLOCK_COLUMNS[which]
        if column in changes and changes[column] != getattr(current, column):
            changes[ladder_column] = None
    if target not in ESCALATION_STATES:
        changes.setdefault("escalation_level", 0)
    updated = Case.objects.filter(pk=current.pk, state=transition.source, version=expected).update(
        state=target.value, version=F("version") + 1, updated_at=now, **changes,
    )
    if updated != 1:
        fresh = Case.objects.only("state", "version").get(pk=current.pk)
        raise Conflict(state=fresh.state, version=fresh.version)
    current.refresh_from_db()
    index_cases([current.pk])  # in this transaction: the index commits or rolls back with the change
    old, new = diff(before, snapshot(current))
    record_event(
        actor=actor, action=transition.event, object_type="case", object_id=current.number,
        object_repr=current.title, before=old, after={**new, **{k: _json(v) for k, v in step.detail.items()}},
    )
    outbox.enqueue(transition.event, {"case": current.number, "action": transition.action, "state": current.state,
                                      "version": current.version, "actor": actor_id})
    return current


# --- registration --------------------------------------------------------------------------------

def _default_supervising_org(seat: policies.Seat) -> Organisation:
    """The nearest supervisory body with a number prefix above (or at) the seat's organisation."""
    ancestor_ids = [int(part) for part in seat.org_path.strip("/").split("/") if part]
    nearest = _nearest_numbering_supervisory(ancestor_ids)
    if nearest is not None:
        return nearest
    fallback = Organisation.objects.filter(kind=Organisation.Kind.SUPERVISORY, is_active=True).exclude(code="")
    found = fallback.order_by("path").first()
    if found is None:
        raise ValidationFailed(_("No supervisory organisation with a number prefix is configured."),
                               code="validation.no_supervising_org", field="supervising_org")
    return found


def _nearest_numbering_supervisory(ancestor_ids: list[int]) -> Organisation | None:
    """The deepest of these organisations that is a supervisory body with a number prefix. Read on every
    registration: written out, since building it through the ORM costs many times what it takes to run."""
    if not ancestor_ids:
        return None
    with connection.cursor() as cursor:
        cursor.execute(  # an ancestor's path is a prefix of its descendants'
            f"SELECT {rows.columns(Organisation, 'o')} FROM {Organisation._meta.db_table} o "
            f"WHERE o.id IN ({', '.join(['%s'] * len(ancestor_ids))}) AND o.kind = %s AND o.code <> '' "
            "ORDER BY o.path DESC LIMIT 1", [*ancestor_ids, Organisation.Kind.SUPERVISORY.value])
        row = cursor.fetchone()
    return None if row is None else rows.load(Organisation, row)


SOURCES = frozenset(Case.Source.values)


def register_case(*, actor: User, source: str, title: str, description: str, found_on: dt.date | None = None,
                  supervising_org: Organisation | None = None, category: Category | None = None,
                  enterprises: Sequence[Enterprise] = (), inspection_round: InspectionRound | None = None,
                  reporter_name: str = "", reporter_contact: str = "", reporter_anonymous: bool = False,
                  remarks: str = "", internal_note: str = "") -> Case:
    """Register a new case (问题登记) from any intake channel.

    Checks read only; the writes run in one transaction (no savepoint of their own inside a caller's),
    the number drawn under its counter's row lock once the case is built, and the audit head locked last."""
    seat = policies.registering_seat(actor)
    if seat is None:
        raise PermissionDenied(_("You may not register cases."), code="workflow.action_not_allowed")
    title = _required(title, "title")
    description = _required(description, "description")
    if source not in SOURCES:
        raise ValidationFailed(_("Unknown source."), code="validation.invalid_choice", field="source")
    enterprises = list({e.pk: e for e in enterprises}.values())
    if seat.role == "enterprise":
        own = list(Enterprise.objects.filter(org_id=seat.org_id))
        if not own:
            raise ValidationFailed(_("Your account is not linked to an enterprise profile."),
                                   code="validation.no_enterprise")
        enterprises, source = own, Case.Source.ENTERPRISE
    elif seat.role == "liaison":
        portfolio = set(LiaisonAssignment.objects.filter(liaison=actor).values_list("enterprise_id", flat=True))
        if not enterprises or any(e.pk not in portfolio for e in enterprises):
            raise ValidationFailed(_("A liaison officer registers demands of the enterprises in their portfolio."),
                                   code="validation.enterprise_not_in_portfolio", field="enterprises")
    if inspection_round is not None and seat.role == "inspector":
        group_path = inspection_round.group.path
        if not group_path.startswith(seat.org_path):
            raise NotFound()
    if supervising_org is None:
        supervising_org = _default_supervising_org(seat)
    elif seat.role in ("supervisor", "approver") and not supervising_org.path.startswith(seat.org_path):
        raise NotFound()
    if not supervising_org.code:
        raise ValidationFailed(_("The supervising organisation has no number prefix."),
                               code="validation.no_number_prefix", field="supervising_org")
    today = clock.today()
    case = Case(
        title=title, description=description, source=source, found_on=found_on or today,
        supervising_org=supervising_org, category=category, inspection_round=inspection_round,
        reporter_name=reporter_name, reporter_contact=reporter_contact, reporter_anonymous=reporter_anonymous,
        remarks=remarks, internal_note=internal_note, registered_by=actor,
    )
    acting = actor_context(actor, seat)
    after = {**snapshot(case, ("state", "version", "title", "category_id")), "source": source,
             "enterprises": [e.pk for e in enterprises]}
    with transaction.atomic(savepoint=False):
        # Registrations of one prefix queue on its counter until they commit: only writes from here on.
        case.number = next_public_number(supervising_org.code, today.year)
        case.created_at = case.updated_at = clock.now()  # registration times follow the numbers
        with rows.batch():  # the case and everything that goes with it: one round trip on PostgreSQL
            rows.insert(case)
            link = Case.enterprises.through
            for enterprise in enterprises:
                rows.insert(link(case=case, enterprise_id=enterprise.pk))
            index_new_case(case, enterprises)
            outbox.enqueue("case.created", {"case": case.number, "state": case.state, "actor": actor.pk})
            record_event(actor=acting, action="case.registered", object_type="case", object_id=case.number,
                         object_repr=case.title, after=after)
    _keep_enterprises_on(case, enterprises)
    return case


def _keep_enterprises_on(case: Case, enterprises: list[Enterprise]) -> None:
    """Keep a new case's enterprises on it as if prefetched, in this order (whoever renders it next reads
    nothing)."""
    linked = case.enterprises.all()
    linked._result_cache = list(enterprises)
    linked._prefetch_done = True  # type: ignore[attr-defined]
    case._prefetched_objects_cache = {"enterprises": linked}  # type: ignore[attr-defined]


# --- transition handlers -------------------------------------------------------------------------

def _category(value: Any) -> Category:
    if isinstance(value, Category):
        return value
    try:
        return Category.objects.get(pk=value, is_active=True)
    except (Category.DoesNotExist, ValueError, TypeError):
        raise ValidationFailed(_("Unknown category."), code="validation.unknown_category", field="category") from None


def _mode(value: Any) -> str:
    if value not in Case.Mode.values:
        raise ValidationFailed(_("Choose immediate, deadline or long-term rectification."),
                               code="validation.invalid_choice", field="mode")
    return str(value)


def _org(value: Any, name: str) -> Organisation:
    if isinstance(value, Organisation):
        return value
    try:
        return Organisation.objects.get(pk=value, is_active=True)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise ValidationFailed(_("Unknown organisation."), code="validation.unknown_org", field=name) from None


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Enter a valid date (YYYY-MM-DD)."), code="validation.invalid_date",
                               field=name) from None


def _future_date(value: Any, name: str) -> dt.date:
    day = _date(value, name)
    if day <= clock.today():
        raise ValidationFailed(_("The date must be in the future."), code="validation.date_not_future", field=name)
    return day


@handles("assess")
def _assess(ctx: Context) -> Step:
    changes: dict[str, Any] = {}
    if ctx.inputs.get("category"):
        changes["category"] = _category(ctx.inputs["category"])
    if ctx.inputs.get("mode"):
        changes["mode"] = _mode(ctx.inputs["mode"])
    return Step(changes=changes, detail={"note": ctx.inputs.get("note") or ""})


@handles("dismiss")
def _dismiss(ctx: Context) -> Step:
    return Step(detail={"reason": ctx.inputs["reason"]})


@handles("merge")
def _merge(ctx: Context) -> Step:
    into_number = ctx.inputs["into"].number if isinstance(ctx.inputs["into"], Case) else str(ctx.inputs["into"])
    survivor = get_case_for(ctx.actor, into_number)
    if survivor.pk == ctx.case.pk:
        raise ValidationFailed(_("A case cannot be merged into itself."), code="validation.merge_into_self",
                               field="into")
    if survivor.state in (State.MERGED, State.DISMISSED):
        raise ValidationFailed(_("The surviving case is itself dismissed or merged."),
                               code="validation.merge_into_terminal", field="into")
    return Step(changes={"merged_into": survivor}, detail={"reason": ctx.inputs["reason"], "into": survivor.number})


@handles("propose_handover")
def _propose_handover(ctx: Context) -> Step:
    inputs = ctx.inputs
    responsible = _org(inputs["responsible_org"], "responsible_org")
    lead = _org(inputs["lead_org"], "lead_org")
    co_orgs = [_org(o, "co_orgs") for o in inputs.get("co_orgs") or []]
    if lead in co_orgs or len({o.pk for o in co_orgs}) != len(co_orgs):
        raise ValidationFailed(_("Each unit appears once: the lead unit cannot also be a co-handling unit."),
                               code="validation.duplicate_units", field="co_orgs")
    for org, name in [(responsible, "responsible_org"), (lead, "lead_org"), *((o, "co_orgs") for o in co_orgs)]:
        if org.kind in (Organisation.Kind.ENTERPRISE, Organisation.Kind.SUPERVISORY,
                        Organisation.Kind.INSPECTION_GROUP):
            raise ValidationFailed(_("%(org)s cannot be given a handover.") % {"org": org.name},
                                   code="validation.org_kind_not_allowed", field=name)
    mode = _mode(inputs["mode"])
    deadline_on = _future_date(inputs["deadline"], "deadline") if inputs.get("deadline") else None
    ctx.case.assignments.exclude(org__in=[lead, *co_orgs]).update(status=Assignment.Status.WITHDRAWN)
    for org, role in [(lead, Assignment.Role.LEAD), *((o, Assignment.Role.CO) for o in co_orgs)]:
        Assignment.objects.update_or_create(
            case=ctx.case, org=org,
            defaults={"role": role, "status": Assignment.Status.PROPOSED, "sign_for_due_at": None,
                      "signed_at": None, "signed_by": None, "completed_at": None},
        )
    changes = {"responsible_org": responsible, "mode": mode, "deadline_on": deadline_on}
    for name in ("responsible_leader", "responsible_person", "goal"):
        if inputs.get(name):
            changes[name] = inputs[name]
    return Step(changes=changes, detail={"lead_org": lead.pk, "co_orgs": [o.pk for o in co_orgs]})


@handles("approve")
def _approve(ctx: Context) -> Step:
    case, now = ctx.case, ctx.now
    if not case.assignments.filter(status=Assignment.Status.PROPOSED, role=Assignment.Role.LEAD).exists():
        raise ValidationFailed(_("The proposal names no lead unit."), code="validation.no_lead_unit")
    sign_for_due = _deadline(case, Clock.SIGN_FOR, now)
    case.assignments.filter(status=Assignment.Status.PROPOSED).update(
        status=Assignment.Status.PENDING, sign_for_due_at=sign_for_due)
    deadline_on = case.deadline_on
    if deadline_on is None and case.mode == Case.Mode.IMMEDIATE and case.inspection_round is not None:
        ends = case.inspection_round.ends_on
        deadline_on = ends if ends > clock.today() else None
    completion = _end_of_day(deadline_on) if deadline_on else _deadline(case, Clock.COMPLETION, now)
    return Step(changes={"deadline_on": deadlines.local_date(completion)},
                clocks={Clock.SIGN_FOR: sign_for_due, Clock.COMPLETION: completion},
                detail={"note": ctx.inputs.get("note") or ""})


@handles("reject")
def _reject(ctx: Context) -> Step:
    ctx.case.assignments.filter(status=Assignment.Status.PROPOSED).update(status=Assignment.Status.WITHDRAWN)
    return Step(detail={"reason": ctx.inputs["reason"]})


def _lead(case: Case) -> Assignment:
    return case.assignments.select_for_update().get(role=Assignment.Role.LEAD,
                                                    status__in=policies.ACTIVE_ASSIGNMENT)


def _own_assignment(ctx: Context, statuses: Iterable[str]) -> Assignment:
    """The assignment of the acting organisation (or the one it stands above)."""
    for assignment in ctx.case.assignments.select_related("org").filter(status__in=list(statuses)):
        if assignment.org.path.startswith(ctx.seat.org_path):
            return assignment
    raise ValidationFailed(_("Your unit has no assignment on this case in a state that allows this."),
                           code="workflow.no_assignment")


@handles("sign_for")
def _sign_for(ctx: Context) -> Step:
    lead = _lead(ctx.case)
    if lead.status != Assignment.Status.PENDING:
        raise IllegalTransition(code="workflow.already_signed_for")
    Assignment.objects.filter(pk=lead.pk).update(status=Assignment.Status.SIGNED, signed_at=ctx.now,
                                                 signed_by=ctx.actor)
    return Step(detail={"org": lead.org_id, "late": bool(lead.sign_for_due_at and ctx.now > lead.sign_for_due_at)})


@handles("decline")
def _decline(ctx: Context) -> Step:
    window = ctx.case.decline_due_at
    if window is not None and ctx.now > window:
        raise ValidationFailed(_("The window for returning this handover has closed; sign for it and ask the "
                                 "supervising body to reassign."), code="workflow.decline_window_closed")
    lead = _lead(ctx.case)
    lead.status, lead.note, lead.sign_for_due_at = Assignment.Status.DECLINED, ctx.inputs["reason"], None
    lead.save(update_fields=["status", "note", "sign_for_due_at"])
    ctx.case.assignments.exclude(pk=lead.pk).filter(status__in=policies.ACTIVE_ASSIGNMENT).update(
        status=Assignment.Status.WITHDRAWN, sign_for_due_at=None)
    return Step(detail={"reason": ctx.inputs["reason"], "org": lead.org_id})


@handles("sign_for_assignment")
def _sign_for_assignment(ctx: Context) -> Step:
    own = _own_assignment(ctx, [Assignment.Status.PENDING])
    Assignment.objects.filter(pk=own.pk).update(status=Assignment.Status.SIGNED, signed_at=ctx.now,
                                                signed_by=ctx.actor)
    return Step(detail={"org": own.org_id})


def _uploads(value: Any) -> list[Any]:
    """One upload or a list of them."""
    if not value:
        return []
    return [value] if hasattr(value, "read") else list(value)


def _plan_items(value: Any) -> list[dict[str, Any]]:
    """Plan items as dicts with `text` (required), `owner`, `due_on` and `done`; plain strings are texts."""
    if not isinstance(value, list | tuple) or not value:
        raise ValidationFailed(_("List at least one rectification measure."), code="validation.required",
                               field="items")
    items = []
    for raw in value:
        item = {"text": raw} if isinstance(raw, str) else dict(raw)
        text = str(item.get("text") or "").strip()
        if not text:
            raise ValidationFailed(_("Every measure needs a description."), code="validation.required",
                                   field="items")
        due_on = _date(item["due_on"], "items") if item.get("due_on") else None
        items.append({"text": text, "owner": str(item.get("owner") or "").strip()[:60], "due_on": due_on,
                      "done": bool(item.get("done"))})
    return items


@handles("file_plan")
def _file_plan(ctx: Context) -> Step:
    """The lead unit files (or revises) the plan; the previous version stays in the audit trail."""
    items = _plan_items(ctx.inputs["items"])
    previous = list(ctx.case.plan_items.values("text", "owner", "due_on", "done"))
    ctx.case.plan_items.all().delete()
    PlanItem.objects.bulk_create(PlanItem(case=ctx.case, position=i, **item) for i, item in enumerate(items))
    return Step(detail={"plan": [{**i, "due_on": _json(i["due_on"])} for i in items],
                        "previous_plan": [{**i, "due_on": _json(i["due_on"])} for i in previous]})


@handles("report_progress")
def _report_progress(ctx: Context) -> Step:
    own = _own_assignment(ctx, [Assignment.Status.SIGNED, Assignment.Status.DONE])
    checked = [_checked_upload(upload) for upload in _uploads(ctx.inputs.get("evidence"))]
    report = ProgressReport.objects.create(case=ctx.case, org=own.org, author=ctx.actor, text=ctx.inputs["text"],
                                           reported_at=ctx.now)
    for upload in checked:
        _store_evidence(ctx.case, upload, actor=ctx.actor, purpose=Evidence.Purpose.PROGRESS, report=report)
    return Step(changes={"progress_summary": ctx.inputs["text"]},
                detail={"report": report.pk, "evidence": len(checked)})


@handles("complete_assignment")
def _complete_assignment(ctx: Context) -> Step:
    own = _own_assignment(ctx, [Assignment.Status.SIGNED])
    Assignment.objects.filter(pk=own.pk).update(status=Assignment.Status.DONE, completed_at=ctx.now)
    return Step(detail={"org": own.org_id})


@handles("request_extension")
def _request_extension(ctx: Context) -> Step:
    if ctx.case.extension_requests.filter(status=ExtensionRequest.Status.PENDING).exists():
        raise ValidationFailed(_("An extension request is already waiting for a decision."),
                               code="workflow.extension_pending")
    requested = _future_date(ctx.inputs["requested_deadline"], "requested_deadline")
    if ctx.case.deadline_on and requested <= ctx.case.deadline_on:
        raise ValidationFailed(_("The requested deadline must be later than the current one."),
                               code="validation.deadline_not_later", field="requested_deadline")
    request = ExtensionRequest.objects.create(
        case=ctx.case, requested_by=ctx.actor, requested_at=ctx.now, requested_deadline=requested,
        previous_deadline=ctx.case.completion_due_at, reason=ctx.inputs["reason"])
    # The completion clock pauses while the request waits (sla.sweeper neither reminds nor escalates it).
    return Step(changes={"clock_paused_at": ctx.now},
                detail={"request": request.pk, "requested_deadline": requested, "reason": ctx.inputs["reason"]})


@handles("decide_extension")
def _decide_extension(ctx: Context) -> Step:
    request = ctx.case.extension_requests.select_for_update().filter(status=ExtensionRequest.Status.PENDING).first()
    if request is None:
        raise ValidationFailed(_("There is no extension request to decide."), code="workflow.no_extension_pending")
    granted = _boolean(ctx.inputs.get("granted"), "granted")
    request.status = ExtensionRequest.Status.GRANTED if granted else ExtensionRequest.Status.REFUSED
    request.decided_by, request.decided_at = ctx.actor, ctx.now
    request.decision_note = ctx.inputs.get("note") or ""
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    changes: dict[str, Any] = {"clock_paused_at": None}
    if granted:
        changes.update(deadline_on=request.requested_deadline,
                       completion_due_at=_end_of_day(request.requested_deadline))
    elif ctx.case.clock_paused_at and ctx.case.completion_due_at:
        shifted = deadlines.shifted_by_pause(ctx.case.completion_due_at, ctx.case.clock_paused_at, ctx.now)
        if shifted != ctx.case.completion_due_at:
            changes.update(deadline_on=deadlines.local_date(shifted), completion_due_at=shifted)
    return Step(changes=changes, detail={"request": request.pk, "granted": granted})


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1", "yes", "on"):
        return True
    if str(value).lower() in ("false", "0", "no", "off"):
        return False
    raise ValidationFailed(_("Answer yes or no."), code="validation.required", field=name)


@handles("put_on_ledger")
def _put_on_ledger(ctx: Context) -> Step:
    review = _future_date(ctx.inputs["review_date"], "review_date")
    return Step(clocks={Clock.LEDGER_REVIEW: _end_of_day(review)}, detail={"reason": ctx.inputs["reason"]})


@handles("resume")
def _resume(ctx: Context) -> Step:
    completion = _deadline(ctx.case, Clock.COMPLETION, ctx.now)
    return Step(changes={"deadline_on": deadlines.local_date(completion)}, clocks={Clock.COMPLETION: completion},
                detail={"note": ctx.inputs.get("note") or ""})


@handles("submit_for_acceptance")
def _submit_for_acceptance(ctx: Context) -> Step:
    case = ctx.case
    lead = _lead(case)
    if lead.status == Assignment.Status.SIGNED:
        Assignment.objects.filter(pk=lead.pk).update(status=Assignment.Status.DONE, completed_at=ctx.now)
    unfinished = case.assignments.filter(status__in=[Assignment.Status.PENDING, Assignment.Status.SIGNED])
    if unfinished.exists():
        names = "、".join(unfinished.values_list("org__name", flat=True))
        raise ValidationFailed(_("These units have not finished their part: %(units)s.") % {"units": names},
                               code="workflow.assignments_unfinished")
    evidence = case.evidence.all()
    if case.evidence_counted_after is not None:  # reopened: earlier evidence supported the earlier submission
        evidence = evidence.filter(pk__gt=case.evidence_counted_after)
    if not evidence.exists():
        raise ValidationFailed(_("Attach evidence (佐证材料) before submitting for acceptance."),
                               code="workflow.evidence_missing")
    changes: dict[str, Any] = {"progress_summary": ctx.inputs["summary"]}
    if ctx.inputs.get("institution_building"):
        changes["institution_building"] = ctx.inputs["institution_building"]
    return Step(changes=changes)


def _checklist(value: Any, labels: Sequence[str], *, all_met: bool) -> dict[str, bool]:
    """The answers to exactly the case's checklist items, in their order. `all_met` for a pass."""
    if not isinstance(value, dict) or not value:
        raise ValidationFailed(_("Fill in the acceptance checklist."), code="validation.checklist_missing",
                               field="checklist")
    unknown = [str(k) for k in value if str(k) not in labels]
    if unknown:
        raise ValidationFailed(_("Not an item of this case's checklist: %(items)s.") % {"items": "、".join(unknown)},
                               code="validation.checklist_unknown_item", field="checklist")
    unanswered = [label for label in labels if value.get(label) in (None, "")]
    if unanswered:
        raise ValidationFailed(_("Answer every checklist item: %(items)s.") % {"items": "、".join(unanswered)},
                               code="validation.checklist_incomplete", field="checklist")
    checklist = {label: _boolean(value[label], "checklist") for label in labels}
    missing = [k for k, v in checklist.items() if not v]
    if all_met and missing:
        raise ValidationFailed(
            _("Items not met: %(items)s. Return the case for rework instead.") % {"items": "、".join(missing)},
            code="workflow.checklist_not_met", field="checklist")
    return checklist


def _team(ctx: Context) -> list[User]:
    """The actor and the colleagues named in `team` (user ids): all on the supervising side, none of a
    handling unit (验收 is independent of the handler)."""
    raw = ctx.inputs.get("team") or []
    if not isinstance(raw, list | tuple):
        raw = [raw]
    ids = []
    for value in raw:
        pk = value.pk if isinstance(value, User) else value
        try:
            ids.append(int(pk))
        except (TypeError, ValueError):
            raise ValidationFailed(_("Choose the team members from the list."), code="validation.invalid_choice",
                                   field="team") from None
    members = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True)}
    if len(members) != len(set(ids)):
        raise ValidationFailed(_("Choose the team members from the list."), code="validation.invalid_choice",
                               field="team")
    team = [ctx.actor, *(members[pk] for pk in dict.fromkeys(ids) if pk != ctx.actor.pk)]
    for member in team[1:]:
        if policies.handles_case(member, ctx.case):
            raise ValidationFailed(
                _("%(name)s belongs to a unit handling this case and cannot be on the acceptance team.")
                % {"name": member}, code="workflow.acceptor_from_handling_unit", field="team")
        if policies.acceptance_team_seat(member, ctx.case) is None:
            raise ValidationFailed(_("%(name)s is not on the supervising side of this case.") % {"name": member},
                                   code="validation.team_member_not_supervising", field="team")
    return team


def _record_acceptance(ctx: Context, verdict: str, checklist: dict[str, bool], opinion: str) -> Step:
    team = _team(ctx)
    acceptance = Acceptance.objects.create(case=ctx.case, verdict=verdict, checklist=checklist, opinion=opinion,
                                           accepted_by=ctx.actor, decided_at=ctx.now)
    acceptance.team.set(team)
    return Step(detail={"acceptance": acceptance.pk, "checklist": checklist, "team": [u.pk for u in team]})


@handles("accept")
def _accept(ctx: Context) -> Step:
    labels = checklist_labels(ctx.case.category)
    checklist = _checklist(ctx.inputs["checklist"], labels, all_met=True)
    step = _record_acceptance(ctx, Acceptance.Verdict.PASSED, checklist, ctx.inputs["opinion"])
    step.changes["followup_waived_reason"] = ""  # a new follow-up round begins
    step.detail["opinion"] = ctx.inputs["opinion"]
    return step


def _reopen_assignments(case: Case) -> None:
    case.assignments.filter(status=Assignment.Status.DONE).update(status=Assignment.Status.SIGNED,
                                                                  completed_at=None)


def _reopen_case(case: Case, now: dt.datetime) -> Step:
    """Back to rectification (二次督办, relapse): parts reopened, a fresh deadline, one more reopen, and only
    evidence added from now on supports the next submission."""
    _reopen_assignments(case)
    step = _fresh_completion(case, now)
    step.changes["reopen_count"] = F("reopen_count") + 1
    step.changes["evidence_counted_after"] = case.evidence.aggregate(last=Max("pk"))["last"] or 0
    return step


def _reopen(ctx: Context) -> Step:
    return _reopen_case(ctx.case, ctx.now)


def _fresh_completion(case: Case, now: dt.datetime) -> Step:
    """A new completion deadline from the time limits; the ledger's deadline follows it."""
    completion = _deadline(case, Clock.COMPLETION, now)
    return Step(changes={"deadline_on": deadlines.local_date(completion)}, clocks={Clock.COMPLETION: completion})


@handles("return_for_rework")
def _return_for_rework(ctx: Context) -> Step:
    checklist: dict[str, bool] = {}
    if ctx.inputs.get("checklist"):
        checklist = _checklist(ctx.inputs["checklist"], checklist_labels(ctx.case.category), all_met=False)
    recorded = _record_acceptance(ctx, Acceptance.Verdict.REWORK, checklist, ctx.inputs["reason"])
    _reopen_assignments(ctx.case)
    # Rework keeps the agreed deadline while it is ahead; past it, the unit gets a fresh time limit.
    step = _fresh_completion(ctx.case, ctx.now)
    if ctx.case.deadline_on is not None and _end_of_day(ctx.case.deadline_on) > ctx.now:
        step = Step(clocks={Clock.COMPLETION: _end_of_day(ctx.case.deadline_on)})
    step.changes["rework_count"] = F("rework_count") + 1
    step.detail.update(recorded.detail, reason=ctx.inputs["reason"])
    return step


def _latest_acceptance(case: Case) -> Acceptance | None:
    return case.acceptances.order_by("-decided_at", "-pk").first()


def _current_round(case: Case) -> Acceptance | None:
    """The passed acceptance whose follow-up round is open: the latest verdict, if it passed."""
    latest = _latest_acceptance(case)
    return latest if latest is not None and latest.verdict == Acceptance.Verdict.PASSED else None


def _followups_since_acceptance(case: Case) -> QuerySet[FollowUp]:
    """The follow-up attempts of the current round."""
    current = _current_round(case)
    return current.followups.all() if current is not None else FollowUp.objects.none()


def unreachable_attempts(case: Case) -> int:
    """How often the current follow-up round could not reach the enterprise."""
    return _followups_since_acceptance(case).filter(solved=FollowUp.Solved.UNREACHABLE).count()


def _followup_step(case: Case, *, now: dt.datetime, channel: str, solved: Any, satisfaction: Any, note: str,
                   override: str, recorded_by: User | None, link_nonce: str = "") -> Step:
    """Record one follow-up attempt (a FollowUp row) and decide the outcome: satisfied → awaiting closure;
    unreachable → stays; otherwise back to rectification (二次督办) unless `override` (a supervisor's reason)."""
    if solved not in FollowUp.Solved.values:
        raise ValidationFailed(_("Say whether the problem is solved."), code="validation.invalid_choice",
                               field="solved")
    if solved == FollowUp.Solved.UNREACHABLE and channel == FollowUp.Channel.PORTAL:
        raise ValidationFailed(_("Say whether the problem is solved."), code="validation.invalid_choice",
                               field="solved")
    if solved != FollowUp.Solved.UNREACHABLE:
        try:
            satisfaction = int(satisfaction)
        except (TypeError, ValueError):
            satisfaction = None
        if satisfaction not in FollowUp.Satisfaction.values:
            raise ValidationFailed(_("Choose a satisfaction level."), code="validation.invalid_choice",
                                   field="satisfaction")
    else:
        satisfaction = None
    if solved == FollowUp.Solved.UNREACHABLE:
        outcome = "unreachable"
    elif solved == FollowUp.Solved.SOLVED and satisfaction is not None and satisfaction >= SATISFIED_AT_LEAST:
        outcome = "satisfied"
    else:
        outcome = "unsatisfied"
    if override:
        if outcome != "unsatisfied":
            raise ValidationFailed(_("An override reason is only needed when the answer sends the case back."),
                                   code="validation.override_not_needed", field="override_reason")
        outcome = "satisfied"
    followup = FollowUp.objects.create(case=case, acceptance=_current_round(case), channel=channel, solved=solved,
                                       satisfaction=satisfaction, note=note, override_reason=override,
                                       recorded_by=recorded_by, recorded_at=now, link_nonce=link_nonce)
    step = _reopen_case(case, now) if outcome == "unsatisfied" else Step()
    step.outcome = outcome
    step.detail.update(followup=followup.pk, solved=solved, satisfaction=satisfaction, channel=channel,
                       override_reason=override)
    if outcome == "unreachable":
        step.detail["unreachable_attempts"] = unreachable_attempts(case)
    return step


def _supervising_followup_seat(user: User, case: Case) -> policies.Seat | None:
    """A supervisor seat of the supervising side that may record this case's follow-up."""
    transition = transition_for(case.state, "record_followup")
    if transition is None:
        return None
    return next((s for s in policies.seats(user) if s.role == Role.SUPERVISOR
                 and policies.seat_qualifies(user, s, transition, case)), None)


@handles("record_followup")
def _record_followup(ctx: Context) -> Step:
    inputs = ctx.inputs
    channel = inputs.get("channel") or ""
    if ctx.seat.role == Role.ENTERPRISE:
        channel = FollowUp.Channel.PORTAL
    if channel not in FollowUp.Channel.values:
        raise ValidationFailed(_("Choose how the follow-up was made."), code="validation.invalid_choice",
                               field="channel")
    override = str(inputs.get("override_reason") or "").strip()
    overriding_seat = None
    if override:
        # Only the supervising side may close the loop despite the enterprise's answer.
        overriding_seat = _supervising_followup_seat(ctx.actor, ctx.case)
        if overriding_seat is None:
            raise PermissionDenied(_("Only a supervisor may close despite the enterprise's answer."),
                                   code="workflow.override_not_allowed")
    step = _followup_step(ctx.case, now=ctx.now, channel=channel, solved=inputs.get("solved"),
                          satisfaction=inputs.get("satisfaction"), note=str(inputs.get("note") or ""),
                          override=override, recorded_by=ctx.actor)
    step.seat = overriding_seat
    return step


@handles("waive_followup")
def _waive_followup(ctx: Context) -> Step:
    attempts = unreachable_attempts(ctx.case)
    if attempts < UNREACHABLE_ATTEMPTS_BEFORE_WAIVER:
        raise ValidationFailed(
            _("Follow-up can be waived only after %(needed)s attempts failed to reach the enterprise "
              "(so far: %(done)s).") % {"needed": UNREACHABLE_ATTEMPTS_BEFORE_WAIVER, "done": attempts},
            code="workflow.waiver_too_early")
    return Step(changes={"followup_waived_reason": ctx.inputs["reason"]},
                detail={"reason": ctx.inputs["reason"], "unreachable_attempts": attempts})


@handles("close")
def _close(ctx: Context) -> Step:
    """销号 only after a passed acceptance and, since it, a satisfied (or overridden) follow-up or a waiver,
    however the case reached awaiting closure."""
    case = ctx.case
    if _current_round(case) is None:
        raise IllegalTransition(_("A case is closed only after it has been accepted."),
                                code="workflow.not_accepted")
    followed_up = _followups_since_acceptance(case).filter(
        Q(solved=FollowUp.Solved.SOLVED, satisfaction__gte=SATISFIED_AT_LEAST) | ~Q(override_reason="")).exists()
    if not followed_up and not case.followup_waived_reason:
        raise IllegalTransition(_("A case is closed only after a satisfied follow-up, a supervisor's override "
                                  "or a recorded waiver."), code="workflow.not_followed_up")
    return Step(changes={"closure_opinion": ctx.inputs["opinion"], "closed_at": ctx.now, "closed_by": ctx.actor},
                detail={"opinion": ctx.inputs["opinion"]})


@handles("record_recheck")
def _record_recheck(ctx: Context) -> Step:
    held = _boolean(ctx.inputs.get("held"), "held")
    checked = [_checked_upload(upload) for upload in _uploads(ctx.inputs.get("evidence"))]
    recheck = Recheck.objects.create(case=ctx.case, held=held, note=ctx.inputs.get("note") or "",
                                     checked_by=ctx.actor, checked_at=ctx.now)
    for upload in checked:
        _store_evidence(ctx.case, upload, actor=ctx.actor, purpose=Evidence.Purpose.RECHECK)
    step = Step() if held else _reopen(ctx)
    step.outcome = "held" if held else "relapsed"
    step.detail["recheck"] = recheck.pk
    if checked:
        step.detail["evidence"] = len(checked)
    return step


# --- evidence ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckedUpload:
    name: str
    data: bytes
    mime: str


def _checked_upload(upload: Any) -> CheckedUpload:
    """Read and check an upload (size, sniffed type, name agreeing with the content) before anything is
    written, so a refused file leaves no row and no file behind."""
    if isinstance(upload, CheckedUpload):
        return upload
    name = str(getattr(upload, "name", "") or "file")
    max_bytes: int = settings.TAIZHANG_MAX_UPLOAD_BYTES
    files.check_size(int(getattr(upload, "size", 0) or 0), max_bytes)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = bytes(upload.read(max_bytes + 1))
    kind = files.check_upload(name, data, max_bytes=max_bytes)
    return CheckedUpload(name=name, data=data, mime=kind.mime)


def _store_evidence(case: Case, upload: Any, *, actor: User, purpose: str,
                    report: ProgressReport | None = None) -> Evidence:
    checked = _checked_upload(upload)
    digest = hashlib.sha256(checked.data).hexdigest()
    evidence = Evidence(case=case, progress_report=report, purpose=purpose, original_name=checked.name[:200],
                        content_type=checked.mime, size=len(checked.data), sha256=digest, uploaded_by=actor,
                        uploaded_at=clock.now())
    evidence.file.save(digest, ContentFile(checked.data), save=False)
    evidence.save()
    return evidence


@transaction.atomic
def attach_evidence(case: Case | str, upload: Any, *, actor: User, purpose: str = Evidence.Purpose.OTHER) -> Evidence:
    """Attach a file to a case outside a progress report (e.g. before submitting for acceptance)."""
    number = case if isinstance(case, str) else case.number
    current = get_case_for(actor, number, for_update=True)
    if current.state not in policies.EVIDENCE_STATES:
        raise IllegalTransition(_("Evidence can be added while the case is being rectified or re-checked."),
                                code="workflow.evidence_not_allowed")
    seat = policies.evidence_seat(actor, current)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed")
    if purpose not in Evidence.Purpose.values:
        raise ValidationFailed(_("Unknown purpose."), code="validation.invalid_choice", field="purpose")
    evidence = _store_evidence(current, upload, actor=actor, purpose=purpose)
    record_event(actor=actor_context(actor, seat), action="case.evidence_added", object_type="case",
                 object_id=current.number, object_repr=current.title,
                 after={"evidence": evidence.pk, "name": evidence.original_name, "sha256": evidence.sha256,
                        "size": evidence.size})
    outbox.enqueue("case.evidence_added", {"case": current.number, "evidence": evidence.pk})
    return evidence


# --- follow-up answered by the enterprise through a signed link -----------------------------------

@dataclass(frozen=True)
class IssuedLink:
    token: str
    url: str
    expires_at: dt.datetime
    enterprise: Enterprise


@dataclass(frozen=True)
class LinkTarget:
    """What the link page may show: nothing internal, no reporter."""

    case: Case
    enterprise: Enterprise
    claims: followup_links.LinkClaims


def followup_link_url(token: str) -> str:
    return reverse("web:followup_answer", kwargs={"token": token})


def may_issue_followup_link(user: User, case: Case) -> bool:
    return case.state == State.AWAITING_FOLLOWUP and _supervising_followup_seat(user, case) is not None


@transaction.atomic
def issue_followup_link(case: Case | str, *, actor: User, enterprise: Enterprise | int | None = None) -> IssuedLink:
    """A signed link (valid LINK_VALID_DAYS days, used once) through which the enterprise answers the
    follow-up itself. Issued by the supervising side while the case awaits follow-up; the outbox message
    carries the link (e.g. to a text-message gateway)."""
    number = case if isinstance(case, str) else case.number
    current = get_case_for(actor, number, for_update=True)
    if current.state != State.AWAITING_FOLLOWUP:
        raise IllegalTransition(_("A follow-up link can be issued while the case awaits follow-up."),
                                code="workflow.followup_not_awaited", state=current.state)
    seat = _supervising_followup_seat(actor, current)
    if seat is None:
        raise PermissionDenied(code="workflow.action_not_allowed", state=current.state)
    enterprises = current.enterprises.all()
    if enterprise is not None:
        enterprises = enterprises.filter(pk=enterprise.pk if isinstance(enterprise, Enterprise) else enterprise)
    chosen = enterprises.order_by("pk").first()
    if chosen is None:
        raise ValidationFailed(_("The case names no such enterprise to ask."), code="validation.no_enterprise",
                               field="enterprise")
    acceptance = _current_round(current)
    if acceptance is None:
        raise IllegalTransition(_("A case is followed up only after it has been accepted."),
                                code="workflow.not_accepted")
    token, expires_at = followup_links.make_token(current.number, acceptance.pk, chosen.pk)
    url = followup_link_url(token)
    record_event(actor=actor_context(actor, seat), action="case.followup_link_issued", object_type="case",
                 object_id=current.number, object_repr=current.title,
                 after={"enterprise": chosen.pk, "expires_at": _json(expires_at)})
    outbox.enqueue("case.followup_link_issued", {
        "case": current.number, "enterprise": chosen.pk, "enterprise_org_id": chosen.org_id, "url": url,
        "expires_at": _json(expires_at), "actor": actor.pk})
    return IssuedLink(token=token, url=url, expires_at=expires_at, enterprise=chosen)


def followup_link_target(token: str, *, viewer: Any = None, for_update: bool = False) -> LinkTarget:
    """The case a follow-up link answers, or a DomainError saying why the link cannot be used: invalid or
    altered (404), expired, already used or no longer needed (409). A signed-in viewer who may not see the
    case is refused as if the link were invalid."""
    try:
        claims = followup_links.read_token(token)
    except followup_links.LinkInvalid:
        raise NotFound(_("This link is not valid. Check that it was copied completely."),
                       code="followup.link_invalid") from None
    except followup_links.LinkExpired:
        raise IllegalTransition(_("This link has expired. Ask the supervising office for a new one."),
                                code="followup.link_expired") from None
    cases = Case.objects.select_for_update(of=("self",)) if for_update else Case.objects.all()
    current = cases.filter(number=claims.case_number).first()
    if current is None:
        raise NotFound(_("This link is not valid. Check that it was copied completely."),
                       code="followup.link_invalid")
    if viewer is not None and viewer.is_authenticated and not policies.is_visible(viewer, current):
        raise NotFound(_("This link is not valid. Check that it was copied completely."),
                       code="followup.link_invalid")
    if FollowUp.objects.filter(link_nonce=claims.nonce).exists():
        raise IllegalTransition(_("This link has already been used. Thank you for your answer."),
                                code="followup.link_used")
    enterprise = current.enterprises.filter(pk=claims.enterprise_id).first()
    acceptance = _current_round(current)
    if (enterprise is None or current.state != State.AWAITING_FOLLOWUP or acceptance is None
            or acceptance.pk != claims.acceptance_id):
        raise IllegalTransition(_("This follow-up is no longer open; no answer is needed."),
                                code="followup.link_stale")
    return LinkTarget(case=current, enterprise=enterprise, claims=claims)


@transaction.atomic
def answer_followup_by_link(token: str, *, solved: Any, satisfaction: Any, note: str = "",
                            viewer: Any = None) -> Case:
    """The enterprise's own answer (channel "portal") through a signed link; the link is used up."""
    target = followup_link_target(token, viewer=viewer, for_update=True)
    current, enterprise = target.case, target.enterprise
    transition = transition_for(current.state, "record_followup")
    assert transition is not None  # followup_link_target checked the state
    now = clock.now()
    before = snapshot(current)
    step = _followup_step(current, now=now, channel=FollowUp.Channel.PORTAL, solved=solved,
                          satisfaction=satisfaction, note=str(note or "").strip()[:2000], override="",
                          recorded_by=None, link_nonce=target.claims.nonce)
    step.detail["via"] = "link"
    actor = ActorContext(user_id=None, name="", role=Role.ENTERPRISE.value, org_id=enterprise.org_id,
                         org_name=enterprise.name)
    return _apply(current, transition, step, before=before, expected=current.version, now=now, actor=actor,
                  actor_id=None)


# --- named services, one per action ---------------------------------------------------------------

def _named(action: str) -> Callable[..., Case]:
    def service(case: Case | str, *, actor: User, version: int | None = None, **inputs: Any) -> Case:
        return perform_action(case, action, actor=actor, version=version, **inputs)

    service.__name__ = service.__qualname__ = action
    service.__doc__ = f"Perform the workflow action “{action}” (see cases/workflow.py)."
    return service


assess_case = _named("assess")
dismiss_case = _named("dismiss")
merge_case = _named("merge")
propose_handover = _named("propose_handover")
approve_handover = _named("approve")
reject_handover = _named("reject")
sign_for_case = _named("sign_for")
decline_case = _named("decline")
sign_for_assignment = _named("sign_for_assignment")
file_plan = _named("file_plan")
report_progress = _named("report_progress")
complete_assignment = _named("complete_assignment")
request_extension = _named("request_extension")
decide_extension = _named("decide_extension")
put_case_on_ledger = _named("put_on_ledger")
resume_case = _named("resume")
submit_for_acceptance = _named("submit_for_acceptance")
accept_case = _named("accept")
return_for_rework = _named("return_for_rework")
record_followup = _named("record_followup")
waive_followup = _named("waive_followup")
close_case = _named("close")
record_recheck = _named("record_recheck")


def available_actions(user: User, case: Case) -> list[Transition]:
    """The transitions `user` may start on `case` now, in table order."""
    return [t for t in actions_from(case.state) if policies.acting_seat(user, t.action, case) is not None]
