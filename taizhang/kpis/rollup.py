"""The measures' roll-up: the figures of `definitions` kept per day and month in `KpiCell`, so that a
dashboard reads a few thousand cells instead of every fact of a city.

Counting cases exactly. A figure counts the cases with a fact of its kind in the period, each once. For
each case, kind and place, the facts' days d1 < d2 < … become cells (d1, since NO_EARLIER), (d2, since
d1), …; a case has a fact in [a, b] exactly when one of its cells has a ≤ day ≤ b and since < a, and
only its first fact in [a, b] has both. A place is every organisation above the unit a fact is
attributed to (the unit's subtree figure), the unit alone (`own`: its own cases) and ALL (everywhere),
so subtree figures need no distinct count either. Each fact is kept in a day cell and in a month cell;
a period reads whole months from month cells and its ragged ends from day cells.

Staying exact. Database triggers mark a case pending whenever one of its facts changes (migration
0003); `fold()` takes a case's previous contribution (kept in `KpiCaseFacts`) out of the cells and puts
its current one in, under one lock. Time alone makes facts too (a handover or a deadline falls due):
each case records when that next happens (`valid_until`) and is folded again then. Readers fold what is
pending before they read, unless the backlog is too large for a request; then the figures are computed
from the facts directly (`selectors`), as they are for users whose scope the cells cannot express.
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, BooleanField, ExpressionWrapper, F, Min, Q, Sum, Value, When
from django.db.models import Case as CaseWhen
from django.db.models.functions import TruncMonth
from django.utils import timezone

from taizhang.cases.models import Case
from taizhang.cases.workflow import HANDED_OVER_STATES
from taizhang.core import workdays
from taizhang.kpis.definitions import (
    COMPLETION,
    FAMILIES,
    FIGURES,
    HANDLING,
    SATISFACTION_THRESHOLDS,
    THRESHOLD_FIGURES,
    Family,
    Period,
    Rules,
)
from taizhang.kpis.models import KpiCaseFacts, KpiCell, KpiPending
from taizhang.orgs.models import Organisation

NO_EARLIER = dt.date(1, 1, 1)
ALL = 0  # the place of every fact
BATCH = 2000
REBUILD_BATCH = 20_000  # more cases share each cell, so fewer cells to write per case
READ_FOLD_LIMIT = 5000  # pending cases a reader folds itself; beyond that it computes from the facts
LOCK_KEY = 7_401_193  # PostgreSQL advisory lock serialising folds (SQLite serialises writers anyway)
BY_CATEGORY, BY_SOURCE = "category", "source"
DUE, LATE = "completion__due", "completion__late"  # the dashboard's breakdowns of the completion facts
WORKDAYS = "handling_workdays__sum"

Cell = tuple[str, dt.date, str, int, bool, dt.date, int, bool, int, str]  # KpiCell's identity, in CELL_FIELDS order
CELL_FIELDS = ("span", "day", "key", "org_id", "own", "since", "supervising_org_id", "handed_over", "category_id",
               "source")


@dataclass(frozen=True)
class Chain:
    """One kind of fact of a family: the rows matching `condition`, kept under `key` (a key ending in
    ":category" or ":source" keeps the case's category or source in its cells)."""

    key: str
    condition: Q


def threshold_key(key: str, threshold: int) -> str:
    return f"{key}@{threshold}"


def _stored_keys(key: str) -> list[str]:
    """The cell keys behind a figure's count (a numerator of a THRESHOLD_FIGURES figure has one per threshold)."""
    figure, _sep, part = key.partition("__")
    if figure in THRESHOLD_FIGURES and part == "num":
        return [threshold_key(key, threshold) for threshold in SATISFACTION_THRESHOLDS]
    return [key]


def chains(family: Family, rules: Rules) -> list[Chain]:
    """The kinds of fact the figures of `family` count (both satisfaction thresholds, the setting picks)."""
    found: list[Chain] = []
    for figure in FIGURES.values():
        if figure.family is not family:
            continue
        denominator = figure.denominator(rules)
        found.append(Chain(f"{figure.key}__den", denominator))
        if figure.numerator is None:
            continue
        if figure.key in THRESHOLD_FIGURES:
            found += [Chain(threshold_key(f"{figure.key}__num", threshold),
                            denominator & figure.numerator(replace(rules, satisfied_at_least=threshold)))
                      for threshold in SATISFACTION_THRESHOLDS]
        else:
            found.append(Chain(f"{figure.key}__num", denominator & figure.numerator(rules)))
    if family is COMPLETION:
        late = FIGURES["overdue"].denominator(rules)
        for dims in (BY_CATEGORY, BY_SOURCE):
            found += [Chain(f"{DUE}:{dims}", Q()), Chain(f"{LATE}:{dims}", late)]
    return found


# --- folding -------------------------------------------------------------------------------------

@dataclass
class Places:
    """Where a fact attributed to an organisation is counted: (organisation, own) pairs."""

    nodes: dict[int, tuple[str, bool]]  # id → (path, counts as a unit: active, not an enterprise)

    @classmethod
    def load(cls) -> "Places":
        rows = Organisation.objects.values_list("pk", "path", "is_active", "kind")
        return cls({pk: (path, active and kind != Organisation.Kind.ENTERPRISE) for pk, path, active, kind in rows})

    def of(self, org_id: int | None) -> list[tuple[int, bool]]:
        path, unit = self.nodes.get(org_id or 0, ("", False))
        if not unit:
            return [(ALL, False)]
        above = [int(pk) for pk in path.strip("/").split("/")]
        return [(ALL, False), (org_id or 0, True), *((pk, False) for pk in above if self.nodes.get(pk, ("", False))[1])]


def _local_day(value: dt.date | dt.datetime) -> dt.date:
    return timezone.localdate(value) if isinstance(value, dt.datetime) else value


def _flag(condition: Q) -> Any:
    return ExpressionWrapper(condition if condition else Value(True), output_field=BooleanField())


def _facts(case_ids: list[int], rules: Rules, places: Places) -> dict[int, dict[str, Any]]:
    """Each case's facts as stored in `KpiCaseFacts.facts`: {"case": [supervising org, handed over, category,
    source], "places": {org: [[place, own], …]}, "facts": {key: [[day ordinal, org, value], …]}}."""
    records: dict[int, dict[str, Any]] = {}
    handed = {state.value for state in HANDED_OVER_STATES}
    for pk, supervising, state, category, source in Case.objects.filter(pk__in=case_ids).values_list(
            "pk", "supervising_org_id", "state", "category_id", "source"):
        records[pk] = {"case": [supervising or 0, state in handed, category or 0, source or ""], "places": {},
                       "facts": defaultdict(list)}
    for family in FAMILIES:
        kinds = chains(family, rules)
        flags = {f"kind_{i}": _flag(chain.condition) for i, chain in enumerate(kinds)}
        columns = ["case_id", family.when, family.org, *flags] + (["signed_at"] if family is HANDLING else [])
        rows = family.rows(rules, None).filter(case_id__in=case_ids).annotate(**flags).values_list(*columns)
        for case_id, when, org_id, *rest in rows:
            record = records.get(case_id)
            if record is None or when is None:
                continue
            day = _local_day(when)
            record["places"].setdefault(str(org_id), places.of(org_id))
            for chain, flag in zip(kinds, rest[:len(kinds)], strict=True):
                if flag:
                    record["facts"][chain.key].append([day.toordinal(), org_id, 1])
            if family is HANDLING:
                days = workdays.workdays_between(_local_day(rest[-1]), day)
                record["facts"][WORKDAYS].append([day.toordinal(), org_id, days])
    return records


def _valid_until(case_ids: list[int], rules: Rules) -> dict[int, dt.datetime]:
    """When time alone next adds a fact to each case (a handover or a completion deadline falls due)."""
    until: dict[int, dt.datetime] = {}
    for family in FAMILIES:
        if family.not_yet_due is None:
            continue
        rows = (family.model._default_manager.filter(family.not_yet_due(rules), case_id__in=case_ids)
                .values("case_id").annotate(first=Min(family.when)))
        for row in rows:
            first = row["first"]
            if family.when_is_date:  # a date is due from the next day's midnight
                first = timezone.make_aware(dt.datetime.combine(first + dt.timedelta(days=1), dt.time.min))
            until[row["case_id"]] = min(first, until.get(row["case_id"], first))
    return until


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def cells(record: dict[str, Any]) -> Counter[Cell]:
    """The cells a case's stored facts add up to."""
    supervising, handed, category, source = record["case"]
    found: Counter[Cell] = Counter()
    for key, facts in record["facts"].items():
        dims = key.partition(":")[2]
        extra = (category, "") if dims == BY_CATEGORY else (0, source) if dims == BY_SOURCE else (0, "")
        days: dict[tuple[int, bool], set[int]] = defaultdict(set)
        for ordinal, org_id, value in facts:
            for place, own in record["places"][str(org_id)]:
                if key == WORKDAYS:  # a sum, not a count of cases
                    day = dt.date.fromordinal(ordinal)
                    for span, at in ((KpiCell.Span.DAY, day), (KpiCell.Span.MONTH, _month(day))):
                        found[(span, at, key, place, own, NO_EARLIER, supervising, handed, *extra)] += value
                else:
                    days[(place, own)].add(ordinal)
        for (place, own), ordinals in days.items():
            since = NO_EARLIER
            for ordinal in sorted(ordinals):
                day = dt.date.fromordinal(ordinal)
                for span, at in ((KpiCell.Span.DAY, day), (KpiCell.Span.MONTH, _month(day))):
                    found[(span, at, key, place, own, since, supervising, handed, *extra)] += 1
                since = day
    return found


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


CELL_TYPES = ("text", "date", "text", "bigint", "boolean", "date", "bigint", "boolean", "bigint", "text", "bigint")


def _apply(delta: Counter[Cell]) -> None:
    """Add `delta` to the cells (one statement on PostgreSQL), then drop the cells it emptied."""
    changed = [(*cell, n) for cell, n in delta.items() if n]
    if not changed:
        return
    table = KpiCell._meta.db_table
    columns = ", ".join((*CELL_FIELDS, "n"))
    upsert = f"ON CONFLICT ({', '.join(CELL_FIELDS)}) DO UPDATE SET n = {table}.n + excluded.n"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in CELL_TYPES)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {upsert}",
                           [list(values) for values in zip(*changed, strict=True)])
        else:
            marks = ", ".join(["%s"] * len(CELL_TYPES))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks}) {upsert}", changed)
    if any(n < 0 for *_cell, n in changed):
        KpiCell.objects.filter(n=0).delete()


def fold(case_ids: Iterable[int], rules: Rules | None = None, progress: Callable[[int, int], None] | None = None,
         batch_size: int = BATCH) -> int:
    """Bring the cells up to date for these cases: take out what each contributed, put in what it does now."""
    rules = rules or Rules.current()
    places = Places.load()
    cases = sorted(set(case_ids))
    for start in range(0, len(cases), batch_size):
        batch = cases[start:start + batch_size]
        with transaction.atomic():
            _lock()
            delta: Counter[Cell] = Counter()
            for stored in KpiCaseFacts.objects.filter(case_id__in=batch).values_list("facts", flat=True):
                delta.subtract(cells(stored))
            until = _valid_until(batch, rules)
            keep = []
            for case_id, record in _facts(batch, rules, places).items():
                if record["facts"] or case_id in until:
                    delta.update(cells(record))
                    keep.append(KpiCaseFacts(case_id=case_id, facts=record, valid_until=until.get(case_id)))
            _apply(delta)
            KpiCaseFacts.objects.filter(case_id__in=batch).delete()
            KpiCaseFacts.objects.bulk_create(keep)
        if progress is not None:
            progress(start + len(batch), len(cases))
    return len(cases)


def _due(now: dt.datetime, limit: int) -> tuple[list[int], set[int]]:
    """Up to `limit` (+1) pending marks (their ids) and the cases to fold: the marked ones and those time changed."""
    marked = list(KpiPending.objects.order_by("pk").values_list("pk", "case_id")[:limit + 1])
    expired = KpiCaseFacts.objects.filter(valid_until__lt=now).values_list("case_id", flat=True)[:limit + 1]
    return [pk for pk, _case in marked], {case for _pk, case in marked} | set(expired)


def catch_up(limit: int = REBUILD_BATCH) -> int:
    """Fold up to about `limit` pending cases (the worker's sweep, after each delivery pass)."""
    rules = Rules.current()
    marks, cases = _due(rules.now, limit)
    fold(cases, rules, batch_size=limit)
    KpiPending.objects.filter(pk__in=marks).delete()
    return len(cases)


def fold_for_reading() -> bool:
    """Fold what is pending before reading the cells; False, with nothing done, when that is too much for a
    request (the reader then computes from the facts)."""
    rules = Rules.current()
    marks, cases = _due(rules.now, READ_FOLD_LIMIT)
    if len(marks) > READ_FOLD_LIMIT or len(cases) > READ_FOLD_LIMIT:
        return False
    if cases:
        fold(cases, rules)
        KpiPending.objects.filter(pk__in=marks).delete()
    return True


def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Fold every case with facts from scratch (after a bulk load that bypassed the triggers, say). Every
    case is marked pending first, so readers count from the facts until little is left to fold."""
    union = " UNION ".join(f"SELECT case_id FROM {family.model._meta.db_table}"
                           for family in {family.model: family for family in FAMILIES}.values())
    with transaction.atomic():
        _lock()
        KpiCell.objects.all().delete()
        KpiCaseFacts.objects.all().delete()
        KpiPending.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {KpiPending._meta.db_table} (case_id) {union}")
    total = KpiPending.objects.count()
    done = 0
    while step := catch_up(REBUILD_BATCH):
        done += step
        if progress is not None:
            progress(min(done, total), total)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:  # every cell was rewritten once per batch: compact the table
            cursor.execute(f"VACUUM FULL ANALYZE {KpiCell._meta.db_table}")
    return done


# --- reading -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CellScope:
    """The cases a reader may count, in the cells' terms."""

    supervising_org_ids: list[int] | None  # None: any supervising organisation
    handed_over_only: bool


@dataclass(frozen=True)
class Part:
    """Cells of one span from `first` to `last` (for month cells, their first days), added or taken away."""

    span: str
    first: dt.date
    last: dt.date
    taken: bool = False


def period_parts(period: Period) -> list[Part]:
    """The cells that add up to the period: whole months from month cells; a partial month from its day
    cells or, when it covers most of the month, from the month cell less the day cells outside the period
    (a count is a sum over facts, so that is exact). At most half a month of day cells at either end."""
    parts: list[Part] = []
    month = _month(period.start)
    while month <= period.end:
        following = _month(month + dt.timedelta(days=31))
        month_end = following - dt.timedelta(days=1)
        first, last = max(period.start, month), min(period.end, month_end)
        inside = (last - first).days + 1
        if inside * 2 <= (following - month).days:
            parts.append(Part(KpiCell.Span.DAY, first, last))
            month = following
            continue
        if parts and parts[-1].span == KpiCell.Span.MONTH and not parts[-1].taken:
            parts[-1] = replace(parts[-1], last=month)  # one range of whole months
        else:
            parts.append(Part(KpiCell.Span.MONTH, month, month))
        if first > month:
            parts.append(Part(KpiCell.Span.DAY, month, first - dt.timedelta(days=1), taken=True))
        if last < month_end:
            parts.append(Part(KpiCell.Span.DAY, last + dt.timedelta(days=1), month_end, taken=True))
        month = following
    return parts


def _in_period(period: Period) -> tuple[Q, Q | None]:
    """The cells of `period_parts`, and those among them to take away."""
    added, taken = Q(), Q()
    for part in period_parts(period):
        cells = Q(span=part.span, day__gte=part.first, day__lte=part.last)
        if part.taken:
            taken |= cells
        else:
            added |= cells
    return added | taken, taken or None


def _cells(period: Period, scope: CellScope, places: list[tuple[int, bool]]) -> tuple[Any, Sum]:
    """The cells to read for a period, scope and places, and the sum that adds them up."""
    condition, taken = _in_period(period)
    if scope.supervising_org_ids is not None:
        condition &= Q(supervising_org_id__in=scope.supervising_org_ids)
    if scope.handed_over_only:
        condition &= Q(handed_over=True)
    where = Q()
    for own in (False, True):
        ids = [org for org, is_own in places if is_own == own]
        if ids:
            where |= Q(org_id__in=ids, own=own)
    total = (Sum(CaseWhen(When(taken, then=-F("n")), default=F("n"), output_field=BigIntegerField()))
             if taken is not None else Sum("n"))
    return KpiCell.objects.filter(condition & where), total


def _figure_key(key: str, satisfied_at_least: int) -> str | None:
    """The name `selectors` gives a cell key's count, or None for the other threshold's cells."""
    name, _sep, threshold = key.partition("@")
    if threshold and int(threshold) != satisfied_at_least:
        return None
    return name


def counts(period: Period, scope: CellScope, places: list[tuple[int, bool]], rules: Rules
           ) -> dict[tuple[int, bool], dict[str, int]]:
    """Every figure's counts ("<figure>__den", "<figure>__num", WORKDAYS) at each place."""
    cells, total = _cells(period, scope, places)
    rows = (cells.filter(since__lt=period.start).exclude(key__contains=":").values("key", "org_id", "own")
            .annotate(total=total))
    found: dict[tuple[int, bool], dict[str, int]] = defaultdict(dict)
    for row in rows:
        name = _figure_key(row["key"], rules.satisfied_at_least)
        if name is not None:
            found[(row["org_id"], row["own"])][name] = row["total"]
    return found


def by_month(period: Period, scope: CellScope, places: list[tuple[int, bool]], keys: list[str], rules: Rules
             ) -> Iterator[tuple[tuple[int, bool], str, dt.date, int]]:
    """(place, figure key, month, cases) for each month of the period (clipped to it)."""
    wanted = [stored for key in keys for stored in _stored_keys(key)]
    cells, total = _cells(period, scope, places)
    rows = (cells.filter(key__in=wanted).annotate(month=TruncMonth("day"))
            .values("key", "org_id", "own", "month", "since").annotate(total=total))
    for row in rows:
        month = row["month"]
        name = _figure_key(row["key"], rules.satisfied_at_least)
        if name is not None and row["since"] < max(period.start, month):
            yield (row["org_id"], row["own"]), name, month, row["total"]


def breakdown(period: Period, scope: CellScope, place: tuple[int, bool], dims: str) -> dict[Any, tuple[int, int]]:
    """Completion facts due and late in the period by category or by source."""
    column = "category_id" if dims == BY_CATEGORY else "source"
    cells, total = _cells(period, scope, [place])
    rows = (cells.filter(since__lt=period.start, key__in=[f"{DUE}:{dims}", f"{LATE}:{dims}"]).values("key", column)
            .annotate(total=total))
    found: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        found[row[column]][0 if row["key"].startswith(DUE) else 1] += row["total"]
    return {k: (v[0], v[1]) for k, v in found.items()}
