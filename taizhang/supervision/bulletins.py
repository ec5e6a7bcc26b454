"""The content of a 通报: generated from the KPIs (ranking) and the ledger (overdue and escalated items,
typical cases) for a period and a set of units, as editable text sections; and its redacted public
version. The sections are Chinese text: a bulletin is an official document, not user interface."""

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q, QuerySet

from taizhang.accounts.models import User
from taizhang.cases import policies as case_policies
from taizhang.cases.models import Assignment, Case
from taizhang.cases.workflow import State
from taizhang.core import clock
from taizhang.core.errors import NotFound
from taizhang.kpis.selectors import UnitKpis, unit_kpis
from taizhang.orgs.models import Enterprise, Organisation
from taizhang.sla import deadlines

LISTED = 20  # items named per list; the rest are counted
TYPICAL = 3
MASK = "×××"
OPEN_STATES = (State.HANDED_OVER, State.RECTIFYING, State.ON_LEDGER)
# Personal data that must not reach the public version, beyond the names collected from the records.
PATTERNS = (
    re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"),  # mobile numbers
    re.compile(r"(?<!\d)0\d{2,3}[\s-]?\d{3,4}[\s-]?\d{4}(?!\d)"),  # landlines with area code
    re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"),  # resident identity card numbers
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # e-mail addresses
)


@dataclass(frozen=True)
class Draft:
    title: str
    sections: list[dict[str, str]]
    ranking: list[dict[str, Any]]
    case_numbers: list[str]


def cases_of_units(user: User, units: Sequence[Organisation]) -> QuerySet[Case]:
    """The cases in `user`'s scope that a unit (or its subtree) answers for or leads."""
    q = reduce(or_, [Q(responsible_org__path__startswith=u.path)
                     | Q(assignments__org__path__startswith=u.path, assignments__role=Assignment.Role.LEAD)
                     for u in units])
    ids = case_policies.scope(user).filter(q).values("pk")
    return Case.objects.filter(pk__in=ids)


def active_cases(user: User, units: Sequence[Organisation], start: dt.date, end: dt.date) -> QuerySet[Case]:
    """The units' cases open at some time in the period: found by its end, not closed before its start."""
    since, _until = _period(start, end)
    return cases_of_units(user, units).filter(found_on__lte=end).exclude(closed_at__lte=since)


def _period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return deadlines.end_of_day(start - dt.timedelta(days=1)), deadlines.end_of_day(end)


def _day(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _listing(rows: Sequence[Any], line: Any, total: int) -> str:
    lines = [f"{i}. {line(row)}" for i, row in enumerate(rows, start=1)]
    if total > len(rows):
        lines.append(f"（另有{total - len(rows)}件，详见整改台账。）")
    return "\n".join(lines) if lines else "无。"


def _org_names(case_ids: Iterable[int]) -> dict[int, str]:
    leads = Assignment.objects.filter(case_id__in=list(case_ids), role=Assignment.Role.LEAD).values_list(
        "case_id", "org__name")
    return dict(leads)


def _ranking(user: User, start: dt.date, end: dt.date, units: Sequence[Organisation]) -> list[dict[str, Any]]:
    """The units' KPI rows (kpis.selectors.unit_kpis, asked once per parent organisation), ranked among
    themselves by score; a unit without a score ranks last."""
    wanted = {u.pk for u in units}
    rows: list[UnitKpis] = []
    for parent in sorted({u.parent_id for u in units}, key=lambda pk: pk or 0):
        try:
            found = unit_kpis(user, org=parent, start=start, end=end)
        except NotFound:  # an organisation the user's KPI view does not reach: its units are not ranked
            continue
        rows += [row for row in found if row.org_id in wanted]
    rows.sort(key=lambda row: (row.score is None, -(row.score or 0), row.org_name))
    ranked: list[dict[str, Any]] = []
    for position, row in enumerate(rows, start=1):
        tied = ranked and ranked[-1]["score"] == row.score
        ranked.append({
            "org_id": row.org_id, "org": row.org_name, "score": row.score,
            "rank": ranked[-1]["rank"] if tied else position,
            "figures": {key: {"label": str(f.label), "numerator": f.numerator, "denominator": f.denominator,
                              "rate": f.rate} for key, f in row.figures.items()}})
    return ranked


def generate(user: User, *, start: dt.date, end: dt.date, units: Sequence[Organisation]) -> Draft:
    since, until = _period(start, end)
    cases = cases_of_units(user, units)
    now = min(clock.now(), until)
    active = active_cases(user, units, start, end)
    closed = cases.filter(closed_at__gt=since, closed_at__lte=until)
    overdue = active.filter(state__in=OPEN_STATES, completion_due_at__lt=now)
    escalated = active.filter(escalation_level__gte=2)
    flagged = (overdue | escalated).distinct().order_by("completion_due_at", "number")
    flagged_rows = list(flagged.values("pk", "number", "title", "escalation_level", "deadline_on")[:LISTED])
    typical_rows = list(closed.order_by("-closed_at", "number").values(
        "pk", "number", "title", "progress_summary", "closure_opinion")[:TYPICAL])
    names = _org_names([r["pk"] for r in flagged_rows + typical_rows])
    ranking = _ranking(user, start, end, units)
    unit_names = "、".join(u.name for u in units)
    overview = (f"{_day(start)}至{_day(end)}，{unit_names}共承办整改问题{active.count()}件，其中期内销号"
                f"{closed.count()}件，超期未完成{overdue.count()}件，被督办（二级及以上）{escalated.count()}件。")

    def flagged_line(row: dict[str, Any]) -> str:
        level = f"，督办{row['escalation_level']}级" if row["escalation_level"] else ""
        deadline = f"，整改时限{_day(row['deadline_on'])}" if row["deadline_on"] else ""
        return f"{row['number']} {row['title']}（{names.get(row['pk'], '')}{deadline}{level}）"

    def typical_line(row: dict[str, Any]) -> str:
        outcome = row["progress_summary"] or row["closure_opinion"]
        return f"{row['number']} {row['title']}（{names.get(row['pk'], '')}）：{outcome}"

    ranking_text = "\n".join(
        f"第{row['rank']}名 {row['org']}，综合得分" + (f"{row['score']:.1f}" if row["score"] is not None else "—")
        for row in ranking)
    sections = [
        {"key": "overview", "heading": "一、总体情况", "text": overview},
        {"key": "ranking", "heading": "二、排名情况", "text": ranking_text or "本期无可排名单位。"},
        {"key": "overdue", "heading": "三、超期及督办事项",
         "text": _listing(flagged_rows, flagged_line, flagged.count())},
        {"key": "typical", "heading": "四、典型案例", "text": _listing(typical_rows, typical_line, len(typical_rows))},
        {"key": "requirements", "heading": "五、下一步工作要求",
         "text": "各单位要切实扛起整改主体责任，对超期事项逐件明确责任人和完成时限，确保按期整改到位；"
                 "对被督办事项要在规定时间内书面反馈办理情况。"},
    ]
    title = f"关于{_day(start)}至{_day(end)}问题整改情况的通报"
    numbers = sorted({r["number"] for r in flagged_rows + typical_rows})
    return Draft(title=title, sections=sections, ranking=ranking, case_numbers=numbers)


# --- the public version --------------------------------------------------------------------------

def _name_variants(value: str) -> set[str]:
    """A name as written ("刘局长（区建设发展局）") and without its parenthesised note ("刘局长")."""
    value = value.strip()
    bare = re.split(r"[（(]", value, maxsplit=1)[0].strip()
    return {v for v in (value, bare) if len(v) >= 2}


def personal_terms(user: User, bulletin: Any) -> set[str]:
    """Names and contact data that may appear in a bulletin: of every case of its units in its period (and
    every case it cites) the reporters, responsible people, registrars and enterprise contacts, and the
    people of its units and of the issuing body."""
    units = list(bulletin.units.all())
    in_period = active_cases(user, units, bulletin.period_start, bulletin.period_end)
    cases = Case.objects.filter(Q(pk__in=in_period.values("pk")) | Q(number__in=list(bulletin.case_numbers)))
    terms: set[str] = set()
    for row in cases.values_list("reporter_name", "reporter_contact", "responsible_leader", "responsible_person",
                                 "registered_by__display_name", "closed_by__display_name"):
        for value in row:
            terms |= _name_variants(value or "")
    for name, phone in Enterprise.objects.filter(cases__in=cases.values("pk")).values_list("contact_name",
                                                                                         "contact_phone"):
        terms |= _name_variants(name) | _name_variants(phone)
    orgs = [*units, bulletin.issuing_org]
    q = reduce(or_, [Q(memberships__org__path__startswith=o.path) for o in orgs])
    for display in User.objects.filter(q).distinct().values_list("display_name", flat=True):
        terms |= _name_variants(display or "")
    return terms


def redact(text: str, terms: Iterable[str]) -> str:
    """`text` without the given terms (longest first) and without phone, identity card or e-mail data."""
    for term in sorted(set(terms), key=len, reverse=True):
        text = text.replace(term, MASK)
    for pattern in PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def public_sections(user: User, bulletin: Any) -> list[dict[str, str]]:
    terms = personal_terms(user, bulletin)
    return [{"key": s["key"], "heading": s["heading"], "text": redact(s["text"], terms)} for s in bulletin.sections]
