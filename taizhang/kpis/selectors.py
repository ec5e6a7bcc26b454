"""Scoped reads of the measures: per unit, with roll-up over the organisation tree, and the dashboard's
breakdowns. Every figure starts from `policies.scope(user)`; each family of facts is aggregated with one
GROUP BY over its rows, bucketed by unit in SQL (no per-case Python).

Who sees which organisations: a seat at a supervisory body or an inspection group (supervisor, approver,
viewer, inspector) may pick any handling organisation — the figures still count only the cases it may
see; a seat at a handling unit (unit leader, handler, viewer) picks its own organisation and those under
it. Any other organisation is not found.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Value
from django.db.models import When as _When
from django.db.models.expressions import Case as _CaseExpr
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.accounts.roles import Role
from taizhang.cases import policies
from taizhang.cases.models import Case, Category
from taizhang.core import workdays
from taizhang.core.errors import NotFound
from taizhang.kpis import rollup
from taizhang.kpis.definitions import (
    COMPLETION,
    FAMILIES,
    FIGURES,
    FOLLOWUP,
    HANDLING,
    SCORE_FIGURES,
    Family,
    Figure,
    Kind,
    Part,
    Period,
    Rules,
    drill_down_value,
)
from taizhang.kpis.models import KpiSettings
from taizhang.orgs.models import Organisation

SUPERVISING_KINDS = frozenset({Organisation.Kind.SUPERVISORY, Organisation.Kind.INSPECTION_GROUP})
SUPERVISING_SEAT_ROLES = frozenset({Role.SUPERVISOR, Role.APPROVER, Role.VIEWER, Role.INSPECTOR})
UNIT_SEAT_ROLES = frozenset({Role.UNIT_LEADER, Role.HANDLER, Role.VIEWER})
OTHER = 0  # the bucket of facts attributed to no unit row (the organisation's own, or outside every unit)


@dataclass(frozen=True)
class OrgNode:
    id: int
    name: str
    path: str
    kind: str

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2


@dataclass(frozen=True)
class FigureValue:
    key: str
    label: str
    kind: str
    numerator: int | None
    denominator: int
    rate: float | None  # numerator ÷ denominator, for rates
    value: float | int | None  # what is shown: the rate in per cent, the count or the average
    cases: dict[str, str]  # Part → the drill-down parameter (`kpi=`) of the cases behind that number


@dataclass
class UnitKpis:
    org_id: int | None
    org_name: str
    figures: dict[str, FigureValue]
    score: float | None = None
    rank: int | None = None


@dataclass
class KpiTable:
    org: OrgNode | None
    period: Period
    units: list[UnitKpis]
    total: UnitKpis
    weights: dict[str, Decimal] = field(default_factory=dict)
    cell_scope: rollup.CellScope | None = None  # where the figures came from the roll-up: whose cells


# --- organisations -------------------------------------------------------------------------------

def _all_orgs() -> list[OrgNode]:
    rows = Organisation.objects.filter(is_active=True).exclude(kind=Organisation.Kind.ENTERPRISE)
    return [OrgNode(*row) for row in rows.order_by("path").values_list("pk", "name", "path", "kind")]


def _visible(user: User, nodes: list[OrgNode]) -> list[OrgNode]:
    handling = [n for n in nodes if n.kind not in SUPERVISING_KINDS]
    roots: set[str] = set()
    for seat in policies.seats(user):
        seat_kind = next((n.kind for n in nodes if n.id == seat.org_id), None)
        if seat.role in SUPERVISING_SEAT_ROLES and seat_kind in SUPERVISING_KINDS:
            return handling
        if seat.role in UNIT_SEAT_ROLES and seat_kind is not None:
            roots.add(seat.org_path)
    return [n for n in handling if any(n.path.startswith(root) for root in roots)]


def kpi_orgs(user: User) -> list[OrgNode]:
    """The organisations whose figures `user` may look at, in tree order."""
    return _visible(user, _all_orgs())


def may_see_kpis(user: User) -> bool:
    return bool(kpi_orgs(user))


def _top(nodes: list[OrgNode]) -> list[OrgNode]:
    return [n for n in nodes if not any(n.path != o.path and n.path.startswith(o.path) for o in nodes)]


def _chosen(user: User, org: Organisation | int | None) -> tuple[list[OrgNode], OrgNode | None]:
    visible = kpi_orgs(user)
    if not visible:
        raise NotFound()
    if org is None:
        return visible, None
    org_id = org.pk if isinstance(org, Organisation) else org
    node = next((n for n in visible if n.id == org_id), None)
    if node is None:
        raise NotFound()
    return visible, node


def default_org(user: User) -> OrgNode | None:
    """Where the dashboard opens: the user's one top organisation, or everything they may see."""
    tops = _top(kpi_orgs(user))
    return tops[0] if len(tops) == 1 else None


# --- aggregation ---------------------------------------------------------------------------------

def _subtree(node: OrgNode, nodes: Iterable[OrgNode]) -> list[int]:
    return [n.id for n in nodes if n.path.startswith(node.path)]


def _bucket(family: Family, units: list[OrgNode], everything: list[OrgNode]) -> Any:
    whens = [_When(**{f"{family.org}__in": _subtree(u, everything)}, then=Value(u.id)) for u in units]
    return _CaseExpr(*whens, default=Value(OTHER)) if whens else Value(OTHER)


def _counts(family: Family, figures: list[Figure], rules: Rules) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for figure in figures:
        counted = figure.denominator(rules)
        counts[f"{figure.key}__den"] = Count("case", distinct=True, filter=counted or None)
        if figure.numerator is not None:  # for `numerator_absent`, the denominator's cases it leaves out
            counts[f"{figure.key}__num"] = Count("case", distinct=True, filter=counted & figure.numerator(rules))
    return counts


def _rows(family: Family, rules: Rules, period: Period, scope: QuerySet[Case, Any],
          org_ids: list[int] | None) -> QuerySet[Any]:
    return family.rows(rules, period, org_ids).filter(case__in=scope).order_by()  # grouped: no model ordering


def _handling_workdays(rows: QuerySet[Any]) -> dict[int, int]:
    """Σ over the rows of the working days from signing for to submitting, per bucket: with W a running
    count of working days, Σ (W(submitted) − W(signed)), from two GROUP BYs by local date."""
    def per_day(column: str) -> list[tuple[int, dt.date, int]]:
        grouped = rows.annotate(day=TruncDate(column)).values("bucket", "day").annotate(n=Count("id"))
        return [(r["bucket"], r["day"], r["n"]) for r in grouped]

    ended, started = per_day("completed_at"), per_day("signed_at")
    ordinal: dict[dt.date, int] = {}
    running, previous = 0, None
    for day in sorted({day for _b, day, _n in ended + started}):
        running += workdays.workdays_between(previous, day) if previous else 0
        ordinal[day], previous = running, day
    sums: dict[int, int] = defaultdict(int)
    for sign, grouped in ((1, ended), (-1, started)):
        for bucket, day, n in grouped:
            sums[bucket] += sign * ordinal[day] * n
    return sums


def _family_buckets(family: Family, rules: Rules, period: Period, scope: QuerySet[Case, Any],
                    org_ids: list[int] | None, bucket: Any) -> dict[int, dict[str, float]]:
    """The family's figures per bucket (one GROUP BY; the handling time adds two by day)."""
    figures = [f for f in FIGURES.values() if f.family is family]
    rows = _rows(family, rules, period, scope, org_ids).annotate(bucket=bucket)
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for row in rows.values("bucket").annotate(**_counts(family, figures, rules)):
        found[row.pop("bucket")] = row
    if family is HANDLING:
        sums = _handling_workdays(rows)
        for key, values in found.items():
            values["handling_workdays__sum"] = sums[key]
    return found


def _family_total(family: Family, rules: Rules, period: Period, scope: QuerySet[Case, Any],
                  org_ids: list[int] | None, buckets: dict[int, dict[str, float]]) -> dict[str, float]:
    if family.one_unit_per_case:
        total: dict[str, float] = defaultdict(float)
        for values in buckets.values():
            for key, value in values.items():
                total[key] += value
        return total
    figures = [f for f in FIGURES.values() if f.family is family]
    return _rows(family, rules, period, scope, org_ids).aggregate(**_counts(family, figures, rules))


def _value(figure: Figure, counts: dict[str, float], org_id: int | None, period: Period) -> FigureValue:
    den = int(counts.get(f"{figure.key}__den") or 0)
    num: int | None = None
    if figure.numerator is not None:
        matching = int(counts.get(f"{figure.key}__num") or 0)
        num = den - matching if figure.numerator_absent else matching
    rate = num / den if num is not None and den else None
    value: float | int | None
    if figure.kind == Kind.RATE:
        value = round(rate * 100, 1) if rate is not None else None
    elif figure.kind == Kind.AVERAGE:
        value = round(counts.get(f"{figure.key}__sum", 0) / den, 1) if den else None
    else:
        value = den
    parts = [Part.DENOMINATOR] + ([Part.NUMERATOR] if figure.numerator is not None else [])
    return FigureValue(key=figure.key, label=str(figure.label), kind=figure.kind.value, numerator=num,
                       denominator=den, rate=rate, value=value,
                       cases={p.value: drill_down_value(figure.key, p, org_id, period) for p in parts})


def _score(figures: dict[str, FigureValue], weights: dict[str, Decimal]) -> float | None:
    parts = [(weights[key], figures[key].rate) for key in SCORE_FIGURES if figures[key].rate is not None]
    weight = sum((w for w, _rate in parts), Decimal(0))
    if not parts or not weight:
        return None
    return round(float(sum(w * Decimal(str(rate)) for w, rate in parts) / weight) * 100, 1)


def score_weights() -> dict[str, Decimal]:
    settings = KpiSettings.current()
    return {"timely_sign_for": settings.response_weight, "resolution": settings.resolution_weight,
            "satisfaction": settings.satisfaction_weight}


def _rank(units: list[UnitKpis]) -> None:
    scored = sorted((u for u in units if u.score is not None), key=lambda u: -(u.score or 0))
    for position, unit in enumerate(scored, start=1):
        same = position > 1 and scored[position - 2].score == unit.score
        unit.rank = scored[position - 2].rank if same else position


def _counts_from_facts(user: User, rules: Rules, period: Period, node: OrgNode | None, units: list[OrgNode],
                       everything: list[OrgNode]) -> tuple[dict[int, dict[str, float]], dict[str, float]]:
    """Each figure's counts per unit bucket and in all, aggregated from the facts (one GROUP BY per family)."""
    org_ids = _subtree(node, everything) if node is not None else None
    scope = policies.scope(user).values("pk")
    buckets: dict[int, dict[str, float]] = defaultdict(dict)
    total: dict[str, float] = {}
    for family in FAMILIES:
        found = _family_buckets(family, rules, period, scope, org_ids, _bucket(family, units, everything))
        for key, values in found.items():
            buckets[key].update(values)
        total.update(_family_total(family, rules, period, scope, org_ids, found))
    return buckets, total


def _cell_scope(user: User, node: OrgNode | None, units: list[OrgNode], everything: list[OrgNode]
                ) -> rollup.CellScope | None:
    """How the roll-up's cells can stand in for the facts for this user and table; None where they cannot:
    a scope not simply by organisation, a unit seat looking at everything, a sub-organisation of the chosen
    one that is not a unit row (its cases would not be the organisation's own), or too much still to fold."""
    scope = policies.supervised_or_handled(user)
    if scope is None or (scope[0] == "handling" and node is None):
        return None
    if node is not None:
        unit_ids = {u.id for u in units}
        if any(n.depth == node.depth + 1 and n.path.startswith(node.path) and n.id not in unit_ids
               for n in everything):
            return None
    if not rollup.fold_for_reading():
        return None
    kind, paths = scope
    if kind == "handling":
        return rollup.CellScope(supervising_org_ids=None, handed_over_only=True)
    under = Q(pk__in=[])
    for path in paths:
        under |= Q(path__startswith=path)
    return rollup.CellScope(supervising_org_ids=list(Organisation.objects.filter(under).values_list("pk", flat=True)),
                            handed_over_only=False)


def _place(node: OrgNode | None) -> tuple[int, bool]:
    return (node.id, False) if node is not None else (rollup.ALL, False)


def _counts_from_cells(scope: rollup.CellScope, rules: Rules, period: Period, node: OrgNode | None,
                       units: list[OrgNode]) -> tuple[dict[int, dict[str, float]], dict[str, float]]:
    """The same counts read from the roll-up: each unit's subtree, the organisation's own, the whole."""
    places = [(u.id, False) for u in units] + [_place(node)] + ([(node.id, True)] if node is not None else [])
    found = rollup.counts(period, scope, places, rules)
    buckets: dict[int, dict[str, float]] = {u.id: dict(found.get((u.id, False), {})) for u in units}
    if node is not None:
        buckets[OTHER] = dict(found.get((node.id, True), {}))
    return buckets, dict(found.get(_place(node), {}))


def kpi_table(user: User, *, org: Organisation | int | None = None, start: dt.date, end: dt.date) -> KpiTable:
    """Every figure for each unit under `org` (its direct sub-organisations; the organisation's own cases
    in a row of their own) and for `org` as a whole, ranked by score."""
    period = Period.checked(start, end)
    visible, node = _chosen(user, org)
    everything = _all_orgs()
    units = [n for n in visible if node is not None and n.path.startswith(node.path) and n.depth == node.depth + 1]
    if node is None:
        units = _top(visible)
    rules, weights = Rules.current(), score_weights()
    cell_scope = _cell_scope(user, node, units, everything)
    if cell_scope is not None:
        buckets, total = _counts_from_cells(cell_scope, rules, period, node, units)
    else:
        buckets, total = _counts_from_facts(user, rules, period, node, units, everything)

    def row(org_id: int | None, name: str, counts: dict[str, float]) -> UnitKpis:
        figures = {key: _value(figure, counts, org_id, period) for key, figure in FIGURES.items()}
        return UnitKpis(org_id=org_id, org_name=name, figures=figures, score=_score(figures, weights))

    rows = [row(u.id, u.name, buckets.get(u.id, {})) for u in units]
    if node is not None and any(buckets.get(OTHER, {}).values()):
        rows.append(row(node.id, _("%(name)s (own cases)") % {"name": node.name}, buckets[OTHER]))
    _rank(rows)
    rows.sort(key=lambda u: (u.rank is None, u.rank or 0, u.org_name))
    whole = row(node.id if node else None, node.name if node else _("All organisations"), total)
    return KpiTable(org=node, period=period, units=rows, total=whole, weights=weights, cell_scope=cell_scope)


def unit_kpis(user: User, *, org: Organisation | int | None = None, start: dt.date, end: dt.date) -> list[UnitKpis]:
    """One row per unit under `org` (or under everything `user` may see), every figure with numerator,
    denominator and rate, the weighted score and the rank; for bulletins (通报) and the dashboard."""
    return kpi_table(user, org=org, start=start, end=end).units


# --- the dashboard's breakdowns -------------------------------------------------------------------

@dataclass(frozen=True)
class Breakdown:
    key: str  # month (YYYY-MM), category id, source or unit id
    label: str
    due: int
    late: int
    query: str  # extra ledger parameters that narrow the drill-down to this item

    @property
    def on_time_rate(self) -> float | None:
        return round((self.due - self.late) / self.due * 100, 1) if self.due else None


@dataclass
class Dashboard:
    table: KpiTable
    months: list[str]
    trend: list[Breakdown]
    satisfaction_by_month: dict[str, float | None]
    by_category: list[Breakdown]
    by_source: list[Breakdown]
    heat: dict[int, dict[str, int]]  # unit id → month → overdue cases
    heat_units: list[tuple[int, str]]


def _months(period: Period) -> list[str]:
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(day.strftime("%Y-%m"))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def _month(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return value.strftime("%Y-%m")


def _category_roots() -> dict[int, tuple[int, str]]:
    nodes = {pk: (path, name) for pk, path, name in Category.objects.values_list("pk", "path", "name")}
    roots: dict[int, tuple[int, str]] = {}
    for pk, (path, _name) in nodes.items():
        root = int(path.strip("/").split("/")[0])
        roots[pk] = (root, nodes[root][1] if root in nodes else "")
    return roots


@dataclass
class Tallies:
    """The dashboard's breakdowns before labelling: [due, late] completion facts by month, category root and
    source, late ones by unit and month, and [rated, satisfied] follow-up cases by month."""

    by_month: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_category: dict[int | None, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_source: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    heat: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    satisfaction: dict[str, tuple[int, int]] = field(default_factory=dict)


def _tallies_from_facts(user: User, rules: Rules, period: Period, node: OrgNode | None,
                        table: KpiTable, roots: dict[int, tuple[int, str]]) -> Tallies:
    """One GROUP BY over the completion facts and one over the follow-ups."""
    everything = _all_orgs()
    unit_ids = {u.org_id for u in table.units}
    units = [n for n in everything if n.id in unit_ids and not (node is not None and n.id == node.id)]
    org_ids = _subtree(node, everything) if node is not None else None
    scope = policies.scope(user).values("pk")
    late = FIGURES["overdue"].denominator(rules)
    completion = (_rows(COMPLETION, rules, period, scope, org_ids)
                  .annotate(bucket=_bucket(COMPLETION, units, everything), month=TruncMonth("case__deadline_on"))
                  .values("bucket", "month", "case__category_id", "case__source")
                  .annotate(due=Count("case"), late=Count("case", filter=late)))
    tallies = Tallies()
    for r in completion:
        month = _month(r["month"])
        root = roots.get(r["case__category_id"], (None, ""))[0] if r["case__category_id"] else None
        for key, counter in ((month, tallies.by_month), (root, tallies.by_category),
                             (r["case__source"], tallies.by_source)):
            counter[key][0] += r["due"]  # type: ignore[index]
            counter[key][1] += r["late"]  # type: ignore[index]
        tallies.heat[node.id if r["bucket"] == OTHER and node else r["bucket"]][month] += r["late"]
    followups = (_rows(FOLLOWUP, rules, period, scope, org_ids).annotate(month=TruncMonth("recorded_at"))
                 .values("month").annotate(**_counts(FOLLOWUP, [FIGURES["satisfaction"]], rules)))
    for r in followups:
        tallies.satisfaction[_month(r["month"])] = (r["satisfaction__den"], r["satisfaction__num"])
    return tallies


def _tallies_from_cells(scope: rollup.CellScope, rules: Rules, period: Period, node: OrgNode | None,
                        table: KpiTable, roots: dict[int, tuple[int, str]]) -> Tallies:
    whole = _place(node)
    heat_places = {(u.org_id, node is not None and u.org_id == node.id) for u in table.units if u.org_id}
    tallies = Tallies()
    keys = {"on_time_completion__den": 0, "overdue__den": 1}
    satisfaction: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for place, key, day, n in rollup.by_month(period, scope, [whole, *heat_places],
                                              [*keys, "satisfaction__den", "satisfaction__num"], rules):
        month = _month(day)
        if place == whole and key in keys:
            tallies.by_month[month][keys[key]] += n
        elif place == whole:
            satisfaction[month][0 if key == "satisfaction__den" else 1] += n
        if place in heat_places and key == "overdue__den":
            tallies.heat[place[0]][month] += n
    tallies.satisfaction = {month: (den, num) for month, (den, num) in satisfaction.items()}
    for category, (due, late) in rollup.breakdown(period, scope, whole, rollup.BY_CATEGORY).items():
        root = roots.get(category, (None, ""))[0] if category else None
        tallies.by_category[root][0] += due
        tallies.by_category[root][1] += late
    for source, (due, late) in rollup.breakdown(period, scope, whole, rollup.BY_SOURCE).items():
        tallies.by_source[source] = [due, late]
    return tallies


def dashboard(user: User, *, org: Organisation | int | None = None, start: dt.date, end: dt.date) -> Dashboard:
    """The figures table plus the trend by month, the breakdowns by category and by source and the overdue
    heat by unit, from the same source as the table (the roll-up or the facts)."""
    table = kpi_table(user, org=org, start=start, end=end)
    period, node, rules, roots = table.period, table.org, Rules.current(), _category_roots()
    if table.cell_scope is not None:
        tallies = _tallies_from_cells(table.cell_scope, rules, period, node, table, roots)
    else:
        tallies = _tallies_from_facts(user, rules, period, node, table, roots)
    months = _months(period)
    root_names = dict(roots.values())
    sources = dict(Case.Source.choices)
    satisfaction = {month: round(num / den * 100, 1) if den else None
                    for month, (den, num) in tallies.satisfaction.items()}
    return Dashboard(
        table=table, months=months,
        trend=[Breakdown(m, m, due=tallies.by_month[m][0], late=tallies.by_month[m][1], query="") for m in months],
        satisfaction_by_month={m: satisfaction.get(m) for m in months},
        by_category=sorted((Breakdown(str(k or ""), root_names.get(k, "") if k else _("Uncategorised"), due=v[0],
                                      late=v[1], query=f"category={k}" if k else "")
                            for k, v in tallies.by_category.items()), key=lambda b: -b.due),
        by_source=sorted((Breakdown(k, str(sources.get(k, k)), due=v[0], late=v[1], query=f"source={k}")
                          for k, v in tallies.by_source.items()), key=lambda b: -b.due),
        heat={k: dict(v) for k, v in tallies.heat.items()},
        heat_units=[(u.org_id, u.org_name) for u in table.units if u.org_id is not None],
    )


def month_period(month: str, period: Period) -> Period:
    """One month of the period (clipped to it), e.g. for the drill-down of a trend point."""
    first = dt.date.fromisoformat(f"{month}-01")
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return Period(max(first, period.start), min(last, period.end))
