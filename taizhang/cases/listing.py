"""The ledger list (整改台账) as the web workspace and the REST API both read it.

`LedgerFilters.from_query(params)` turns query parameters into validated filters (a clear, translated
`ValidationFailed` for a bad value); `ledger_page(user, filters, cursor=…, limit=…, order=…)` returns one
page of plain dicts. Every page starts from `policies.scope(user)`, so no filter combination — search
included — shows a case the user may not see. Pages are keyset-paginated on (sort key, id) with a
signed, opaque cursor (no OFFSET, fast at any depth); a page costs a fixed number of queries (the
page itself, then one for the units and the enterprises of its rows); counts are capped.
"""

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import connection, connections
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.sql.constants import MULTI
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from taizhang.accounts.models import User
from taizhang.cases import policies
from taizhang.cases.models import Assignment, Case, Category
from taizhang.cases.services import CLOCK_COLUMNS
from taizhang.cases.workflow import Clock, State
from taizhang.core import clock
from taizhang.core.errors import ValidationFailed
from taizhang.orgs.models import Enterprise, EnterpriseTag, Organisation
from taizhang.search.query import filter_cases

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_QUERY_LENGTH = 100
ORG_ROLES = ("any", "responsible", "lead", "co")
OVERDUE_ANY = "any"
# Assignments shown in the ledger and matched by the lead/co filters: proposed ones included.
LIVE_ASSIGNMENT = (Assignment.Status.PROPOSED, *policies.ACTIVE_ASSIGNMENT)
CURSOR_SALT = "taizhang.cases.listing.cursor"
# Named case sets other apps define, e.g. the cases behind a KPI figure (taizhang.kpis): query parameter →
# a function from its value to a Q over Case (raising ValidationFailed for a bad value).
CASE_SETS: dict[str, Callable[[str], Q]] = {}


def register_case_set(parameter: str, resolve: Callable[[str], Q]) -> None:
    CASE_SETS[parameter] = resolve

PAGE_COLUMNS = (
    "id", "number", "title", "state", "source", "mode", "severity", "found_on", "created_at", "deadline_on",
    "escalation_level", "reopen_count", "progress_summary", "category_id", "category__name",
    "responsible_org_id", "responsible_org__name", "inspection_round_id", "inspection_round__name",
    *CLOCK_COLUMNS.values(),
)
# The columns are chosen once: each page only adds its conditions, order and limit.
PAGE_ROWS = Case.objects.values(*PAGE_COLUMNS)
PAGE_TIMESTAMPS = ("created_at", *CLOCK_COLUMNS.values())


# --- parsing -------------------------------------------------------------------------------------

def _values(params: Mapping[str, Any], name: str) -> list[str]:
    """All values of a parameter: repeated keys (QueryDict), lists, or comma-separated text."""
    getlist = getattr(params, "getlist", None)
    raw: Any = getlist(name) if callable(getlist) else params.get(name)
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    values: list[str] = []
    for item in items:
        values += [part.strip() for part in str(item).split(",") if part.strip()]
    return values


def _one(params: Mapping[str, Any], name: str) -> str:
    values = _values(params, name)
    if len(values) > 1:
        raise ValidationFailed(_("Give one value for the filter “%(name)s”.") % {"name": name},
                               code="validation.invalid_filter", field=name)
    return values[0] if values else ""


def _text(params: Mapping[str, Any], name: str) -> str:
    """Free text (the search query): taken whole, commas included, trimmed."""
    getlist = getattr(params, "getlist", None)
    raw: Any = getlist(name) if callable(getlist) else params.get(name)
    if isinstance(raw, list | tuple):
        if len(raw) > 1:
            raise ValidationFailed(_("Give one value for the filter “%(name)s”.") % {"name": name},
                                   code="validation.invalid_filter", field=name)
        raw = raw[0] if raw else ""
    return str(raw or "").strip()


def _choices(params: Mapping[str, Any], name: str, allowed: Iterable[str]) -> tuple[str, ...]:
    allowed = set(allowed)
    values = _values(params, name)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationFailed(_("Unknown value for the filter “%(name)s”: %(values)s.")
                               % {"name": name, "values": "、".join(unknown)},
                               code="validation.invalid_filter", field=name)
    return tuple(dict.fromkeys(values))


def _id(params: Mapping[str, Any], name: str) -> int | None:
    value = _one(params, name)
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or int(value) <= 0:
        raise ValidationFailed(_("The filter “%(name)s” takes an identifier (a positive whole number).")
                               % {"name": name}, code="validation.invalid_filter", field=name)
    return int(value)


def _day(params: Mapping[str, Any], name: str) -> dt.date | None:
    value = _one(params, name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("Enter a valid date (YYYY-MM-DD)."), code="validation.invalid_date",
                               field=name) from None


def _range(params: Mapping[str, Any], start: str, end: str) -> tuple[dt.date | None, dt.date | None]:
    first, last = _day(params, start), _day(params, end)
    if first and last and first > last:
        raise ValidationFailed(_("The start of a date range must not be after its end."),
                               code="validation.invalid_range", field=start)
    return first, last


@dataclass(frozen=True)
class LedgerFilters:
    """What the ledger is narrowed to. Empty fields do not filter."""

    states: tuple[str, ...] = ()
    category: int | None = None  # with its subcategories
    sources: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    org: int | None = None  # with its sub-organisations
    org_role: str = "any"  # responsible, lead, co or any of them
    enterprise: int | None = None
    tags: tuple[str, ...] = ()  # EnterpriseTag.Tag of any enterprise concerned (专精特新 …)
    inspection_round: int | None = None
    overdue: str = ""  # a Clock whose deadline has passed, or "any"
    escalation: tuple[int, ...] = ()
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None
    deadline_from: dt.date | None = None
    deadline_to: dt.date | None = None
    q: str = ""
    case_sets: tuple[tuple[str, str], ...] = ()  # (parameter, value) of CASE_SETS

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> "LedgerFilters":
        """Parse query parameters (a QueryDict or any mapping); a bad value is a ValidationFailed."""
        q = _text(params, "q")
        if len(q) > MAX_QUERY_LENGTH:
            raise ValidationFailed(_("Search for at most %(n)s characters.") % {"n": MAX_QUERY_LENGTH},
                                   code="validation.query_too_long", field="q")
        org_role = _one(params, "org_role") or "any"
        if org_role not in ORG_ROLES:
            raise ValidationFailed(_("Unknown value for the filter “%(name)s”: %(values)s.")
                                   % {"name": "org_role", "values": org_role},
                                   code="validation.invalid_filter", field="org_role")
        overdue = _one(params, "overdue")
        if overdue and overdue != OVERDUE_ANY and overdue not in {c.value for c in Clock}:
            raise ValidationFailed(_("Unknown value for the filter “%(name)s”: %(values)s.")
                                   % {"name": "overdue", "values": overdue},
                                   code="validation.invalid_filter", field="overdue")
        registered = _range(params, "registered_from", "registered_to")
        deadline = _range(params, "deadline_from", "deadline_to")
        return cls(
            states=_choices(params, "state", [s.value for s in State]),
            category=_id(params, "category"),
            sources=_choices(params, "source", Case.Source.values),
            modes=_choices(params, "mode", Case.Mode.values),
            org=_id(params, "org"),
            org_role=org_role,
            enterprise=_id(params, "enterprise"),
            tags=_choices(params, "tag", EnterpriseTag.Tag.values),
            inspection_round=_id(params, "round"),
            overdue=overdue,
            escalation=tuple(int(v) for v in _choices(params, "escalation", ["0", "1", "2", "3"])),
            registered_from=registered[0], registered_to=registered[1],
            deadline_from=deadline[0], deadline_to=deadline[1],
            q=q,
            case_sets=_case_sets(params),
        )


def _case_sets(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    chosen = tuple((name, value) for name in CASE_SETS if (value := _one(params, name)))
    for name, value in chosen:
        CASE_SETS[name](value)  # validates the value now, so a bad one fails like any other filter
    return chosen


# --- filtering -----------------------------------------------------------------------------------

def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _subtree_ids(model: type[Organisation] | type[Category], pk: int) -> list[int]:
    """The ids of a node and everything under it, in one query; literal ids let the planner use the
    (responsible_org, state) index rather than join the tree."""
    root = model.objects.filter(pk=pk).values("path")[:1]
    return list(model.objects.filter(path__startswith=Subquery(root)).values_list("pk", flat=True))


def _org_condition(filters: LedgerFilters, orgs: list[int]) -> Q:
    def assigned(role: str | None) -> Q:
        links = Assignment.objects.filter(case=OuterRef("pk"), org__in=orgs, status__in=LIVE_ASSIGNMENT)
        return Q(Exists(links.filter(role=role) if role else links))

    match filters.org_role:
        case "responsible":
            return Q(responsible_org__in=orgs)
        case "lead":
            return assigned(Assignment.Role.LEAD)
        case "co":
            return assigned(Assignment.Role.CO)
    return Q(responsible_org__in=orgs) | assigned(None)


def _links() -> QuerySet[Any]:
    """The case's links to its enterprises, for a correlated condition."""
    return Case.enterprises.through.objects.filter(case_id=OuterRef("pk"))


def filtered_cases(user: User, filters: LedgerFilters, *,
                   among: QuerySet[Case, Any] | None = None) -> QuerySet[Case, Any]:
    """The cases `user` may see (`among` a prepared case queryset, if given), narrowed by `filters` (not ordered)."""
    cases = policies.scope(user, among=among)
    f = filters
    if f.states:
        cases = cases.filter(state__in=f.states)
    if f.sources:
        cases = cases.filter(source__in=f.sources)
    if f.modes:
        cases = cases.filter(mode__in=f.modes)
    if f.escalation:
        cases = cases.filter(escalation_level__in=f.escalation)
    if f.inspection_round is not None:
        cases = cases.filter(inspection_round_id=f.inspection_round)
    if f.category is not None:
        cases = cases.filter(category__in=_subtree_ids(Category, f.category))
    if f.org is not None:
        orgs = _subtree_ids(Organisation, f.org)
        cases = cases.filter(_org_condition(f, orgs)) if orgs else cases.none()
    if f.enterprise is not None:
        cases = cases.filter(Exists(_links().filter(enterprise_id=f.enterprise)))
    if f.tags:
        cases = cases.filter(Exists(_links().filter(enterprise__tags__tag__in=f.tags)))
    if f.overdue:
        now = clock.now()
        columns = CLOCK_COLUMNS.values() if f.overdue == OVERDUE_ANY else [CLOCK_COLUMNS[Clock(f.overdue)]]
        overdue = Q()
        for column in columns:
            overdue |= Q(**{f"{column}__lt": now})
        cases = cases.filter(overdue)
    if f.registered_from:
        cases = cases.filter(created_at__gte=_start_of(f.registered_from))
    if f.registered_to:
        cases = cases.filter(created_at__lt=_start_of(f.registered_to + dt.timedelta(days=1)))
    if f.deadline_from:
        cases = cases.filter(deadline_on__gte=f.deadline_from)
    if f.deadline_to:
        cases = cases.filter(deadline_on__lte=f.deadline_to)
    for parameter, value in f.case_sets:
        cases = cases.filter(CASE_SETS[parameter](value))
    return filter_cases(cases, f.q)


# --- ordering and cursors ------------------------------------------------------------------------

def _fetch(rows: QuerySet[Case, Any]) -> list[dict[str, Any]]:
    """A queryset of `PAGE_ROWS` as the dicts `values()` gives, read straight from the compiled statement:
    Django's per-value converters cost more than the query itself on a cheap page, and all these columns
    need is SQLite's timestamps (stored without a zone) made aware; dates arrive as dates, the rest as is."""
    db = connections[rows.db]
    zone = None if db.features.supports_timezones else db.timezone
    fetched: list[dict[str, Any]] = []
    for chunk in rows.query.get_compiler(rows.db).execute_sql(MULTI):
        for values in chunk:
            row = dict(zip(PAGE_COLUMNS, values, strict=True))
            if zone is not None:
                for name in PAGE_TIMESTAMPS:
                    if (value := row[name]) is not None:
                        row[name] = value.replace(tzinfo=zone)
            fetched.append(row)
    return fetched


@dataclass(frozen=True)
class Sort:
    """An order of the ledger: a column, then the id, both in one direction. A nullable column pages in
    two segments — rows with a value in order, then rows without one by id — so each segment is an
    index range (`NULLS LAST` would defeat the index on both databases)."""

    column: str
    descending: bool
    nullable: bool = False

    @property
    def _id_order(self) -> str:
        return "-id" if self.descending else "id"

    def order_by(self) -> list[Any]:
        return ["-" + self.column if self.descending else self.column, self._id_order]

    def after(self, value: Any, pk: int) -> Q:
        """Rows with a value strictly after (value, pk) in this order."""
        before, after = ("lt", "lte") if self.descending else ("gt", "gte")
        # `col <= v AND (col < v OR id < pk)`: the first half is an index range on both databases.
        return Q(**{f"{self.column}__{after}": value}) & (Q(**{f"{self.column}__{before}": value})
                                                          | Q(**{f"id__{before}": pk}))

    def rows(self, cases: QuerySet[Case, Any], position: tuple[Any, int] | None, count: int) -> list[dict[str, Any]]:
        """Up to `count` rows after `position` (a cursor's (value, id); None for the first page) of `cases`,
        a queryset of `PAGE_ROWS`."""
        if not self.nullable:
            if position is not None:
                cases = cases.filter(self.after(*position))
            return _fetch(cases.order_by(*self.order_by())[:count])
        rows: list[dict[str, Any]] = []
        if position is None or position[0] is not None:
            dated = cases.filter(**{f"{self.column}__isnull": False})
            if position is not None:
                dated = dated.filter(self.after(*position))
            rows = _fetch(dated.order_by(*self.order_by())[:count])
        if len(rows) < count:
            undated = cases.filter(**{f"{self.column}__isnull": True})
            if position is not None and position[0] is None:
                undated = undated.filter(**{"id__lt" if self.descending else "id__gt": position[1]})
            rows += _fetch(undated.order_by(self._id_order)[:count - len(rows)])
        return rows


SORTS: dict[str, Sort] = {
    "-created": Sort("created_at", True), "created": Sort("created_at", False),
    "-deadline": Sort("deadline_on", True, nullable=True), "deadline": Sort("deadline_on", False, nullable=True),
    "-number": Sort("number", True), "number": Sort("number", False),
}


def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def _decode_value(sort: Sort, value: Any) -> Any:
    if value is None and sort.nullable:
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    if sort.column == "created_at":
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(value)
        return parsed
    if sort.column == "deadline_on":
        return dt.date.fromisoformat(value)
    return value


def encode_cursor(order: str, value: Any, pk: int) -> str:
    return signing.dumps({"o": order, "v": _encode_value(value), "i": pk}, salt=CURSOR_SALT, compress=False)


def decode_cursor(cursor: str, order: str) -> tuple[Any, int]:
    """The sort key and id a cursor points after; a forged, damaged or foreign cursor is a ValidationFailed."""
    invalid = ValidationFailed(_("This page link is invalid or has expired. Start again from the first page."),
                               code="validation.invalid_cursor", field="cursor")
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
        if not isinstance(data, dict) or data.get("o") != order:
            raise invalid
        pk = data.get("i")
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise invalid
        return _decode_value(SORTS[order], data.get("v")), pk
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        raise invalid from None


# --- pages ---------------------------------------------------------------------------------------

@dataclass
class LedgerPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class CappedCount:
    count: int  # at most the cap
    capped: bool  # True when there are more ("1000+")


@dataclass(frozen=True)
class PageRequest:
    """Cursor, size and order of a page, parsed from query parameters."""

    cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    order: str = "-created"

    @classmethod
    def from_query(cls, params: Mapping[str, Any]) -> "PageRequest":
        order = _one(params, "order") or "-created"
        _check_order(order)
        raw_limit = _one(params, "limit")
        limit = DEFAULT_LIMIT
        if raw_limit:
            if not raw_limit.isascii() or not raw_limit.isdigit():
                raise ValidationFailed(_("The page size must be a whole number from 1 to %(max)s.")
                                       % {"max": MAX_LIMIT}, code="validation.invalid_limit", field="limit")
            limit = int(raw_limit)
        _check_limit(limit)
        return cls(cursor=_one(params, "cursor") or None, limit=limit, order=order)


def _check_order(order: str) -> Sort:
    if order not in SORTS:
        raise ValidationFailed(_("Unknown sort order: %(order)s.") % {"order": order},
                               code="validation.invalid_order", field="order")
    return SORTS[order]


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(_("The page size must be a whole number from 1 to %(max)s.") % {"max": MAX_LIMIT},
                               code="validation.invalid_limit", field="limit")


@functools.cache
def _labels(language: str | None) -> dict[str, dict[str, str]]:
    """Display labels in `language` (the active one), translated once rather than on every row."""
    return {
        "state": {s.value: str(s.label) for s in State},
        "source": {value: str(label) for value, label in Case.Source.choices},
        "mode": {value: str(label) for value, label in Case.Mode.choices},
    }


def _labelled(row: dict[str, Any], labels: dict[str, dict[str, str]], now: dt.datetime) -> dict[str, Any]:
    row["state_label"] = labels["state"].get(row["state"], row["state"])
    row["source_label"] = labels["source"].get(row["source"], "")
    row["mode_label"] = labels["mode"].get(row["mode"], "")
    row["overdue"] = [which.value for which, column in CLOCK_COLUMNS.items()
                      if row[column] is not None and row[column] < now]
    return row


def _names_sql(count: int) -> str:
    """The units (by role) and the enterprises of `count` cases in one statement, each kind in link order.
    Written out because the ORM would spend more building two queries than the database answers them in."""
    # PostgreSQL takes the ids as one array parameter: planned alike whatever the page size.
    ids = "= ANY(%s)" if connection.vendor == "postgresql" else "IN (" + ", ".join(["%s"] * count) + ")"
    live = ", ".join(f"'{status}'" for status in LIVE_ASSIGNMENT)
    links = Case.enterprises.through._meta.db_table
    return (f"SELECT a.role, a.case_id, o.name, a.id FROM {Assignment._meta.db_table} a "
            f"JOIN {Organisation._meta.db_table} o ON o.id = a.org_id WHERE a.case_id {ids} AND a.status IN ({live}) "
            f"UNION ALL SELECT 'enterprise', l.case_id, e.name, l.id FROM {links} l "
            f"JOIN {Enterprise._meta.db_table} e ON e.id = l.enterprise_id WHERE l.case_id {ids} ORDER BY 1, 4")


def _add_names(rows: list[dict[str, Any]]) -> None:
    """Set `lead_org_names`, `co_org_names` and `enterprise_names` on each row."""
    by_id: dict[int, dict[str, list[str]]] = {}
    for row in rows:
        names: dict[str, list[str]] = {"lead": [], "co": [], "enterprise": []}
        row["lead_org_names"] = names["lead"]
        row["co_org_names"] = names["co"]
        row["enterprise_names"] = names["enterprise"]
        by_id[row["id"]] = names
    ids = list(by_id)
    with connection.cursor() as cursor:
        cursor.execute(_names_sql(len(ids)), [ids, ids] if connection.vendor == "postgresql" else ids + ids)
        for kind, case_id, name, _pk in cursor.fetchall():
            by_id[case_id][kind].append(name)


def ledger_page(user: User, filters: LedgerFilters, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT,
                order: str = "-created") -> LedgerPage:
    """One page of the ledger as plain dicts, in `order`, after `cursor` (from the previous page)."""
    sort = _check_order(order)
    _check_limit(limit)
    cases = filtered_cases(user, filters, among=PAGE_ROWS)
    position = decode_cursor(cursor, order) if cursor else None
    rows = sort.rows(cases, position, limit + 1)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        _add_names(rows)
        now = clock.now()
        labels = _labels(get_language())
        for row in rows:
            _labelled(row, labels, now)
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(order, last[sort.column], last["id"])
    return LedgerPage(rows=rows, next_cursor=next_cursor, has_more=has_more)


def count_capped(user: User, filters: LedgerFilters, cap: int = 1000) -> CappedCount:
    """How many cases match, counting no further than `cap` (for badges: "1000+")."""
    found = filtered_cases(user, filters).values("pk")[:cap + 1].count()
    return CappedCount(count=min(found, cap), capped=found > cap)
