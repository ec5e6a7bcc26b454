"""The measures of DESIGN.md §6, each defined once.

A *family* is a table of facts (assignments, follow-ups, acceptance verdicts, re-checks, escalations),
the date that places a fact in a period, and the organisation a fact is attributed to: the unit itself
for a handover (及时签收), otherwise the case's lead unit (牵头单位). A *figure* is a denominator and a
numerator, both conditions on its family's fact rows, and it counts cases (a case with several facts in
the period counts once). From the same definition come

- `fact_rows()`: the fact rows of a period and subtree, which `selectors` aggregate set-based (one
  GROUP BY per family), and
- `case_q()`: a Q over `Case` that selects exactly the cases behind a number, which the ledger and the
  API case list apply through the drill-down parameter `kpi` (see `cases.listing.register_case_set`).

A numerator is either "cases with a fact matching it" or, where `numerator_absent`, "cases of the
denominator with no fact matching it" (e.g. signed for in time = due and never late).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from taizhang.cases.models import Acceptance, Assignment, FollowUp, Recheck
from taizhang.cases.policies import ACTIVE_ASSIGNMENT
from taizhang.core import clock
from taizhang.core.errors import ValidationFailed
from taizhang.kpis.models import KpiSettings
from taizhang.orgs.models import Organisation
from taizhang.sla.models import Escalation

DRILL_DOWN_PARAMETER = "kpi"
MAX_PERIOD_DAYS = 366 * 5
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


class Kind(StrEnum):
    RATE = "rate"
    COUNT = "count"
    AVERAGE = "average"  # of working days, over the denominator's cases


class Part(StrEnum):
    DENOMINATOR = "den"
    NUMERATOR = "num"


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included (Asia/Shanghai)."""

    start: dt.date
    end: dt.date

    @classmethod
    def checked(cls, start: dt.date, end: dt.date) -> "Period":
        if end < start:
            raise ValidationFailed(_("The period ends before it starts."), code="validation.invalid_range",
                                   field="from")
        if not EARLIEST <= start <= LATEST or not EARLIEST <= end <= LATEST:
            raise ValidationFailed(_("Choose dates between %(first)s and %(last)s.")
                                   % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()},
                                   code="validation.invalid_range", field="from")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise ValidationFailed(_("Choose a period of at most five years."), code="validation.invalid_range",
                                   field="from")
        return cls(start, end)

    def instants(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as a half-open range of instants."""
        def midnight(day: dt.date) -> dt.datetime:
            return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        return midnight(self.start), midnight(self.end + dt.timedelta(days=1))


@dataclass(frozen=True)
class Rules:
    """What the definitions depend on besides the data: the moment of measuring and the settings."""

    now: dt.datetime
    satisfied_at_least: int

    @classmethod
    def current(cls) -> "Rules":
        settings = KpiSettings.current()
        lowest = (FollowUp.Satisfaction.BASICALLY_SATISFIED if settings.basically_satisfied_counts
                  else FollowUp.Satisfaction.SATISFIED)
        return cls(now=clock.now(), satisfied_at_least=int(lowest))

    @property
    def today(self) -> dt.date:
        return timezone.localdate(self.now)


RowCondition = Callable[[Rules], Q]


def _always(rules: Rules) -> Q:
    return Q()


LEAD_OF_CASE = Q(case__assignments__role=Assignment.Role.LEAD, case__assignments__status__in=ACTIVE_ASSIGNMENT)


@dataclass(frozen=True)
class Family:
    key: str
    model: type[Model]
    when: str  # the fact's date (or instant) that places it in a period
    org: str  # the organisation the fact is attributed to
    base: RowCondition  # the facts the family counts
    when_is_date: bool = False
    one_unit_per_case: bool = True  # all facts of a case are attributed to the same organisation
    # The rows that time alone will make facts of the family, once `when` has passed (None: no such rows).
    not_yet_due: RowCondition | None = None

    def rows(self, rules: Rules, period: Period | None, org_ids: list[int] | None = None) -> QuerySet[Any]:
        """The family's facts in `period` (None: at any time), attributed to one of `org_ids` (None: anywhere)."""
        condition = self.base(rules)
        if period is not None and self.when_is_date:
            condition &= Q(**{f"{self.when}__gte": period.start, f"{self.when}__lte": period.end})
        elif period is not None:
            first, after = period.instants()
            condition &= Q(**{f"{self.when}__gte": first, f"{self.when}__lt": after})
        if org_ids is not None:
            condition &= Q(**{f"{self.org}__in": org_ids})
        return self.model._default_manager.filter(condition)


def _handover_due(rules: Rules) -> Q:
    """Handovers whose sign-for deadline has passed or that were signed for."""
    return (Q(status__in=ACTIVE_ASSIGNMENT, sign_for_due_at__isnull=False)
            & (Q(signed_at__isnull=False) | Q(sign_for_due_at__lt=rules.now)))


def _completion_due(rules: Rules) -> Q:
    """Lead units' parts whose rectification deadline has passed or that were submitted for acceptance."""
    return (Q(role=Assignment.Role.LEAD, status__in=ACTIVE_ASSIGNMENT, case__deadline_on__isnull=False)
            & (Q(completed_at__isnull=False) | Q(case__deadline_on__lt=rules.today)))


def _handover_not_yet_due(rules: Rules) -> Q:
    return Q(status__in=ACTIVE_ASSIGNMENT, signed_at__isnull=True, sign_for_due_at__gte=rules.now)


def _completion_not_yet_due(rules: Rules) -> Q:
    return Q(role=Assignment.Role.LEAD, status__in=ACTIVE_ASSIGNMENT, completed_at__isnull=True,
             case__deadline_on__gte=rules.today)


def _handled(rules: Rules) -> Q:
    return Q(role=Assignment.Role.LEAD, status__in=ACTIVE_ASSIGNMENT, signed_at__isnull=False,
             completed_at__isnull=False)


def _lead(rules: Rules) -> Q:
    return LEAD_OF_CASE


SIGN_FOR = Family("sign_for", Assignment, when="sign_for_due_at", org="org_id", base=_handover_due,
                  one_unit_per_case=False, not_yet_due=_handover_not_yet_due)
COMPLETION = Family("completion", Assignment, when="case__deadline_on", org="org_id", base=_completion_due,
                    when_is_date=True, not_yet_due=_completion_not_yet_due)
HANDLING = Family("handling", Assignment, when="completed_at", org="org_id", base=_handled)
FOLLOWUP = Family("followup", FollowUp, when="recorded_at", org="case__assignments__org_id", base=_lead)
ACCEPTANCE = Family("acceptance", Acceptance, when="decided_at", org="case__assignments__org_id", base=_lead)
RECHECK = Family("recheck", Recheck, when="checked_at", org="case__assignments__org_id", base=_lead)
ESCALATION = Family("escalation", Escalation, when="created_at", org="case__assignments__org_id", base=_lead)
FAMILIES = (SIGN_FOR, COMPLETION, HANDLING, FOLLOWUP, ACCEPTANCE, RECHECK, ESCALATION)


@dataclass(frozen=True)
class Figure:
    key: str
    label: Any
    family: Family
    kind: Kind
    denominator: RowCondition = _always
    numerator: RowCondition | None = None
    numerator_absent: bool = False  # the numerator is the denominator's cases with no fact matching `numerator`


def _late_sign_for(rules: Rules) -> Q:
    return Q(signed_at__isnull=True) | Q(signed_at__gt=F("sign_for_due_at"))


def _late_completion(rules: Rules) -> Q:
    return Q(completed_at__isnull=True) | Q(GreaterThan(TruncDate("completed_at"), F("case__deadline_on")))


def _answered(rules: Rules) -> Q:
    return ~Q(solved=FollowUp.Solved.UNREACHABLE)


def _solved(rules: Rules) -> Q:
    return Q(solved=FollowUp.Solved.SOLVED)


def _rated(rules: Rules) -> Q:
    return Q(satisfaction__isnull=False)


def _satisfied(rules: Rules) -> Q:
    return Q(satisfaction__gte=rules.satisfied_at_least)


def _passed(rules: Rules) -> Q:
    return Q(verdict=Acceptance.Verdict.PASSED)


def _followed_up(rules: Rules) -> Q:
    """An answered follow-up after the acceptance."""
    later = FollowUp.objects.filter(case=OuterRef("case_id"), recorded_at__gte=OuterRef("decided_at")).exclude(
        solved=FollowUp.Solved.UNREACHABLE)
    return Q(Exists(later))


def _rework(rules: Rules) -> Q:
    return Q(verdict=Acceptance.Verdict.REWORK)


def _relapsed(rules: Rules) -> Q:
    return Q(held=False)


def _level(level: int) -> RowCondition:
    def condition(rules: Rules) -> Q:
        return Q(level=level)
    return condition


FIGURES: dict[str, Figure] = {figure.key: figure for figure in (
    Figure("timely_sign_for", gettext_lazy("Timely sign-for rate"), SIGN_FOR, Kind.RATE,
           numerator=_late_sign_for, numerator_absent=True),
    Figure("on_time_completion", gettext_lazy("On-time completion rate"), COMPLETION, Kind.RATE,
           numerator=_late_completion, numerator_absent=True),
    Figure("resolution", gettext_lazy("Resolution rate"), FOLLOWUP, Kind.RATE, denominator=_answered,
           numerator=_solved),
    Figure("satisfaction", gettext_lazy("Satisfaction rate"), FOLLOWUP, Kind.RATE, denominator=_rated,
           numerator=_satisfied),
    Figure("followup_rate", gettext_lazy("Follow-up rate"), ACCEPTANCE, Kind.RATE, denominator=_passed,
           numerator=_followed_up),
    Figure("rework_rate", gettext_lazy("Rework rate"), ACCEPTANCE, Kind.RATE, numerator=_rework),
    Figure("relapse_rate", gettext_lazy("Relapse rate"), RECHECK, Kind.RATE, numerator=_relapsed),
    Figure("handling_workdays", gettext_lazy("Average handling time (working days)"), HANDLING, Kind.AVERAGE),
    Figure("overdue", gettext_lazy("Overdue cases"), COMPLETION, Kind.COUNT, denominator=_late_completion),
    Figure("escalated_1", gettext_lazy("Escalated: overdue notice (level 1)"), ESCALATION, Kind.COUNT,
           denominator=_level(1)),
    Figure("escalated_2", gettext_lazy("Escalated: parent leadership (level 2)"), ESCALATION, Kind.COUNT,
           denominator=_level(2)),
    Figure("escalated_3", gettext_lazy("Escalated: supervision order (level 3)"), ESCALATION, Kind.COUNT,
           denominator=_level(3)),
)}
# The unit score's parts (weights in KpiSettings): response, resolution, satisfaction.
SCORE_FIGURES = ("timely_sign_for", "resolution", "satisfaction")
# Figures whose numerator depends on `Rules.satisfied_at_least` (the "basically satisfied" setting).
THRESHOLD_FIGURES = ("satisfaction",)
SATISFACTION_THRESHOLDS = (int(FollowUp.Satisfaction.BASICALLY_SATISFIED), int(FollowUp.Satisfaction.SATISFIED))


def case_q(figure: Figure, part: Part, rules: Rules, period: Period, org_ids: list[int] | None) -> Q:
    """The cases behind one number of `figure`: its denominator or its numerator."""
    rows = figure.family.rows(rules, period, org_ids).filter(figure.denominator(rules))
    counted = Q(Exists(rows.filter(case=OuterRef("pk"))))
    if part == Part.DENOMINATOR or figure.numerator is None:
        return counted
    matching = Q(Exists(rows.filter(figure.numerator(rules)).filter(case=OuterRef("pk"))))
    return counted & ~matching if figure.numerator_absent else matching


# --- the drill-down parameter: "<figure>.<den|num>:<organisation id or empty>:<from>:<to>" ---------------

def drill_down_value(figure: str, part: Part, org_id: int | None, period: Period) -> str:
    return f"{figure}.{part.value}:{org_id or ''}:{period.start.isoformat()}:{period.end.isoformat()}"


def subtree_ids(org_id: int) -> list[int]:
    root = Organisation.objects.filter(pk=org_id).values_list("path", flat=True).first()
    if root is None:
        return []
    return list(Organisation.objects.filter(path__startswith=root).values_list("pk", flat=True))


def parse_drill_down(value: str) -> tuple[Figure, Part, int | None, Period]:
    invalid = ValidationFailed(_("This link to the cases behind a measure is invalid."),
                               code="validation.invalid_filter", field=DRILL_DOWN_PARAMETER)
    try:
        name, org, start, end = value.split(":")
        key, part = name.split(".")
        figure = FIGURES[key]
        chosen = Part(part)
        org_id = int(org) if org else None
        period = Period.checked(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    except (ValueError, KeyError, ValidationFailed):
        raise invalid from None
    if org_id is not None and org_id <= 0:
        raise invalid
    return figure, chosen, org_id, period


def drill_down_q(value: str) -> Q:
    """The Q over Case for a drill-down parameter value (a bad value is a ValidationFailed)."""
    figure, part, org_id, period = parse_drill_down(value)
    org_ids = subtree_ids(org_id) if org_id is not None else None
    return case_q(figure, part, Rules.current(), period, org_ids)
