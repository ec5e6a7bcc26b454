"""Scoped reads for the workspace pages. Cases are read through `policies.scope()` (via the case
selectors and services); enterprises and organisations by the rules below."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.audit.models import AuditEvent
from taizhang.cases import policies, selectors, services
from taizhang.cases.models import Acceptance, Assignment, Case, Category, Evidence, FollowUp, Recheck
from taizhang.cases.workflow import CLOCK_LABELS, TRANSITIONS, Clock, State, Transition
from taizhang.core import clock, workdays
from taizhang.core.errors import NotFound
from taizhang.orgs.models import Enterprise, InspectionRound, LiaisonAssignment, Organisation
from taizhang.sla import deadlines
from taizhang.web import closing
from taizhang.web.models import LedgerPreference, SavedFilter

WORKING_STATES = [State.RECTIFYING.value, State.ON_LEDGER.value]
DUE_SOON_WORKDAYS = 3
HANDOVER_KINDS = [Organisation.Kind.PARTY_COMMITTEE, Organisation.Kind.GOVERNMENT, Organisation.Kind.DEPARTMENT,
                  Organisation.Kind.EXTERNAL]
ENTERPRISE_WIDE_ROLES = frozenset({Role.SUPERVISOR, Role.APPROVER, Role.INSPECTOR, Role.VIEWER})


# --- home ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tile:
    key: str
    label: Any
    count: int
    query: str
    alert: bool = False
    hint: str = ""


TILE_ACTIONS: list[tuple[str, Any, list[str], str]] = [
    # key, label, actions that make a case wait for this user, ledger query
    ("assess", _("To assess"), ["assess", "propose_handover"], "state=registered&state=assessing"),
    ("approve", _("To approve"), ["approve"], "state=awaiting_approval"),
    ("sign_for", _("To sign for"), ["sign_for"], "state=handed_over"),
    ("rectifying", _("Rectifying"), ["report_progress"], "state=rectifying&state=on_ledger"),
    ("accept", _("To accept"), ["accept"], "state=awaiting_acceptance"),
    ("followup", _("To follow up"), ["record_followup"], "state=awaiting_followup"),
    ("close", _("To close"), ["close"], "state=awaiting_closure"),
]


def _acting(user: User, actions: list[str]) -> QuerySet[Case] | None:
    roles = {s.role for s in policies.seats(user)}
    if not any(t.roles & roles for t in TRANSITIONS if t.action in actions):
        return None
    query: QuerySet[Case] | None = None
    for action in actions:
        part = policies.scope(user, action)
        query = part if query is None else query | part
    return query


def home_tiles(user: User) -> list[Tile]:
    """What waits for the user: one tile per kind of work they may do, plus the deadlines in their scope."""
    tiles: list[Tile] = []
    now = clock.now()
    for key, label, actions, query in TILE_ACTIONS:
        cases = _acting(user, actions)
        if cases is None:
            continue
        hint = ""
        if key == "rectifying":
            stats = cases.aggregate(n=Count("pk"), next_due=Min("next_report_due_at"))
            count = stats["n"]
            if stats["next_due"]:
                due = date_format(deadlines.local_date(stats["next_due"]))
                hint = str(_("Next report due %(date)s") % {"date": due})
        else:
            count = cases.count()
        tiles.append(Tile(key, label, count, query, hint=hint))
    visible = policies.scope(user).filter(state__in=WORKING_STATES)
    if any(s.role not in (Role.ADMIN, Role.AUDITOR) for s in policies.seats(user)):
        today = clock.today()
        soon = workdays.add_workdays(today, DUE_SOON_WORKDAYS)
        counts = visible.aggregate(
            soon=Count("pk", filter=Q(deadline_on__gte=today, deadline_on__lte=soon)),
            overdue=Count("pk", filter=Q(completion_due_at__lt=now)),
        )
        working = "state=rectifying&state=on_ledger"
        tiles.append(Tile("due_soon", _("Due soon"), counts["soon"],
                          f"{working}&deadline_from={today.isoformat()}&deadline_to={soon.isoformat()}",
                          hint=str(_("within %(n)d working days") % {"n": DUE_SOON_WORKDAYS})))
        tiles.append(Tile("overdue", _("Overdue"), counts["overdue"], f"{working}&overdue=completion", alert=True))
    return tiles


def recent_activity(user: User, limit: int = 12) -> list[dict[str, Any]]:
    """The latest audit events of cases the user may see, in plain words."""
    numbers = policies.scope(user).values("number")
    show_person = policies.sees_internal_notes(user)
    events = (AuditEvent.objects.filter(object_type="case", object_id__in=numbers)
              .order_by("-seq")[:limit])
    return [{"at": e.occurred_at, "number": e.object_id, "title": e.object_repr,
             "sentence": selectors.describe(e, show_person=show_person)} for e in events]


# --- case page -----------------------------------------------------------------------------------

@dataclass
class ClockView:
    label: str
    due_at: dt.datetime
    due_on: dt.date
    workdays_left: int
    overdue: bool

    @property
    def workdays_overdue(self) -> int:
        return max(-self.workdays_left, 0) if self.overdue else 0


@dataclass
class CasePage:
    case: Case
    clocks: list[ClockView]
    assignments: list[Assignment]
    plan_items: list[Any]
    reports: list[Any]
    evidence: list[Evidence]
    timeline: list[selectors.TimelineEntry]
    actions: list[Transition]
    enterprises: list[Enterprise]
    related: list[Case]
    followups: list[Any]
    acceptances: list[Any]
    rechecks: list[Any]
    extension_requests: list[Any]
    sees_reporter: bool
    sees_internal: bool
    may_add_evidence: bool
    extra: dict[str, Any] = field(default_factory=dict)


CLOCK_FIELDS: list[tuple[Clock, str]] = [
    (Clock.SIGN_FOR, "sign_for_due_at"), (Clock.DECLINE_WINDOW, "decline_due_at"),
    (Clock.PROGRESS_REPORT, "next_report_due_at"), (Clock.COMPLETION, "completion_due_at"),
    (Clock.LEDGER_REVIEW, "ledger_review_due_at"), (Clock.FOLLOWUP, "followup_due_at"),
    (Clock.RECHECK, "recheck_due_at"),
]


def case_clocks(case: Case) -> list[ClockView]:
    now, today = clock.now(), clock.today()
    result = []
    for which, column in CLOCK_FIELDS:
        due_at = getattr(case, column)
        if due_at is None:
            continue
        due_on = deadlines.local_date(due_at)
        result.append(ClockView(label=str(CLOCK_LABELS[which]), due_at=due_at, due_on=due_on,
                                workdays_left=workdays.workdays_between(today, due_on), overdue=due_at < now))
    return result


def case_page(user: User, number: str) -> CasePage:
    """Everything the case page shows, or NotFound when the case is out of the user's scope."""
    case = services.get_case_for(user, number)
    internal = policies.sees_internal_notes(user)
    evidence = list(case.evidence.select_related("progress_report").order_by("uploaded_at", "pk"))
    reports = list(case.progress_reports.select_related("org", "author").order_by("reported_at", "pk"))
    by_report: dict[int, list[Evidence]] = {}
    for item in evidence:
        if item.progress_report_id:
            by_report.setdefault(item.progress_report_id, []).append(item)
    for report in reports:
        report.files = by_report.get(report.pk, [])  # type: ignore[attr-defined]
    related_q = Q(merged_into=case) | Q(pk=case.merged_into_id or 0)
    related = list(policies.scope(user).filter(related_q).exclude(pk=case.pk).only("number", "title", "state"))
    return CasePage(
        case=case,
        clocks=case_clocks(case),
        assignments=list(case.assignments.select_related("org", "signed_by").exclude(
            status=Assignment.Status.WITHDRAWN).order_by("role", "pk")),
        plan_items=list(case.plan_items.all()),
        reports=reports,
        evidence=evidence,
        timeline=selectors.case_timeline(user, case),
        actions=services.available_actions(user, case),
        enterprises=list(case.enterprises.all()),
        related=related,
        followups=list(case.followups.select_related("recorded_by")),
        acceptances=list(case.acceptances.select_related("accepted_by").prefetch_related("team")),
        rechecks=list(case.rechecks.all()),
        extension_requests=list(case.extension_requests.all()),
        sees_reporter=policies.sees_reporter(user, case),
        sees_internal=internal,
        may_add_evidence=policies.evidence_seat(user, case) is not None,
        extra={"followup": closing.followup_facts(user, case)},
    )


def case_header(user: User, number: str) -> tuple[Case, list[ClockView]]:
    case = services.get_case_for(user, number)
    return case, case_clocks(case)


def evidence_file(user: User, number: str, evidence_id: int) -> Evidence:
    """An evidence file of a case in the user's scope; NotFound otherwise."""
    case = services.get_case_for(user, number)
    try:
        return Evidence.objects.get(case=case, pk=evidence_id)
    except Evidence.DoesNotExist:
        raise NotFound() from None


# --- registration ------------------------------------------------------------------------------

CHANNEL_ROLES: dict[str, frozenset[Role]] = {
    "inspection": frozenset({Role.INSPECTOR, Role.SUPERVISOR}),
    "enterprise": frozenset({Role.ENTERPRISE, Role.SUPERVISOR, Role.INSPECTOR}),
    "liaison": frozenset({Role.LIAISON}),
    "hotline": frozenset({Role.SUPERVISOR}),
}


def registration_channels(user: User) -> list[str]:
    """The intake channels the user registers cases through, by the role of their registering seat."""
    seat = policies.registering_seat(user)
    if seat is None:
        return []
    roles = {s.role for s in policies.seats(user)}
    return [channel for channel, allowed in CHANNEL_ROLES.items() if roles & allowed]


# --- pickers and reference data ------------------------------------------------------------------

def handover_orgs() -> QuerySet[Organisation]:
    """Organisations that may be given a handover."""
    return Organisation.objects.filter(is_active=True, kind__in=HANDOVER_KINDS).order_by("path")


def categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True).select_related("parent__parent").order_by("path"))


def rounds_for(user: User) -> list[InspectionRound]:
    """Inspection rounds the user may register findings for: those of their groups or below their org."""
    paths = [s.org_path for s in policies.seats(user) if s.role in (Role.INSPECTOR, Role.SUPERVISOR)]
    if not paths:
        return []
    q = Q()
    for path in paths:
        q |= Q(group__path__startswith=path)
    return list(InspectionRound.objects.filter(q).select_related("group").order_by("-starts_on"))


def round_for(user: User, pk: Any) -> InspectionRound:
    for rnd in rounds_for(user):
        if str(rnd.pk) == str(pk):
            return rnd
    raise NotFound()


def enterprises_for(user: User) -> QuerySet[Enterprise]:
    """Enterprises the user may look up: all for the supervising side, the portfolio for a liaison,
    its own for an enterprise user, those of visible cases for a handling unit; none otherwise."""
    seats = policies.seats(user)
    roles = {s.role for s in seats}
    if roles & ENTERPRISE_WIDE_ROLES:
        return Enterprise.objects.all()
    q = Q(pk__in=[])
    if Role.LIAISON in roles:
        q |= Q(pk__in=LiaisonAssignment.objects.filter(liaison=user).values("enterprise_id"))
    if Role.ENTERPRISE in roles:
        q |= Q(org_id__in=[s.org_id for s in seats if s.role == Role.ENTERPRISE])
    if roles & {Role.UNIT_LEADER, Role.HANDLER}:
        q |= Q(cases__in=policies.scope(user))
    return Enterprise.objects.filter(q).distinct()


def search_enterprises(user: User, text: str, limit: int = 10) -> list[Enterprise]:
    text = text.strip()
    if not text:
        return []
    found = enterprises_for(user).filter(Q(name__icontains=text) | Q(credit_code__istartswith=text.upper()))
    return list(found.order_by("name")[:limit])


def enterprise_for(user: User, pk: Any) -> Enterprise:
    try:
        return enterprises_for(user).get(pk=pk)
    except (Enterprise.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def enterprise_page(user: User, pk: Any) -> dict[str, Any]:
    enterprise = enterprise_for(user, pk)
    cases = list(policies.scope(user).filter(enterprises=enterprise).order_by("-created_at", "-pk")
                 .only("number", "title", "state", "created_at", "deadline_on", "source")[:500])
    return {
        "enterprise": enterprise,
        "tags": list(enterprise.tags.all()),
        "liaisons": [a.liaison for a in enterprise.liaison_assignments.select_related("liaison")],
        "cases": cases,
    }


def case_for_choice(user: User, number: str) -> Case:
    return services.get_case_for(user, number)


# --- saved filters and columns -------------------------------------------------------------------

def saved_filters(user: User) -> list[SavedFilter]:
    return list(SavedFilter.objects.filter(user=user).order_by("name"))


def ledger_columns(user: User, default: list[str]) -> list[str]:
    pref = LedgerPreference.objects.filter(user=user).values_list("columns", flat=True).first()
    return list(pref) if pref else list(default)


def ledger_extras(user: User, ids: list[int], columns: set[str]) -> dict[int, dict[str, Any]]:
    """The ledger columns the list page does not carry, for the rows of one page (a fixed number of queries)."""
    extras: dict[int, dict[str, Any]] = {pk: {} for pk in ids}
    if not ids:
        return extras
    cases = policies.scope(user).filter(pk__in=ids)
    plain = [c for c in ("goal", "responsible_leader", "responsible_person", "institution_building", "remarks")
             if c in columns]
    if plain or "closure" in columns:
        for row in cases.values("id", "closure_opinion", "closed_at", "closed_by__display_name", *plain):
            extras[row["id"]].update(row)
    if "evidence" in columns:
        for row in Evidence.objects.filter(case__in=cases).values("case_id").annotate(n=Count("pk")):
            extras[row["case_id"]]["evidence_count"] = row["n"]
    if "acceptance" in columns:
        acceptances = Acceptance.objects.filter(case__in=cases).select_related("accepted_by")
        for acceptance in acceptances.order_by("decided_at"):
            extras[acceptance.case_id]["acceptance"] = f"{acceptance.opinion}（{acceptance.accepted_by}）"
    if "followup" in columns:
        for followup in FollowUp.objects.filter(case__in=cases).order_by("recorded_at"):
            extras[followup.case_id]["followup"] = followup.get_solved_display() + (
                f" · {followup.get_satisfaction_display()}" if followup.satisfaction else "")
        for recheck in Recheck.objects.filter(case__in=cases).order_by("checked_at"):
            extras[recheck.case_id]["recheck"] = str(_("held") if recheck.held else _("relapsed"))
    return extras
