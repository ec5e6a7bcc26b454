"""A small district whose measures for March 2026 are worked out by hand in the tests.

Measured on Wed 15 April 2026 (Asia/Shanghai). All cases are supervised by the city (长春市纪委监委)
except C7, which the other city supervises; all are being rectified (the unit scope needs a handed-over
state). Facts (dates in 2026, local time):

| case | lead (co) | sign-for due → signed | deadline → submitted | follow-ups | accepted | re-check | escalation |
|---|---|---|---|---|---|---|---|
| C1 | lead unit | 03-03 → 03-02 | 03-10 → 03-09 | 03-20 solved, 5 | 03-15 ok | 03-28 held | |
| C2 | lead unit | 03-05 → 03-06 late | 03-20 → 03-25 late | 03-28 solved, 3 | 03-21 rework, 03-26 ok | | |
| C3 | lead child (power company) | 03-10 → 03-09; co 03-10 unsigned | 03-31 → open, late | | | | L1 03-12, L2 03-20 |
| C4 | sibling unit | 03-04 18h → 03-04 9h | 04-30 (not due) | 03-17 unreachable; 03-18 not solved, 2 | 03-16 ok | ||
| C5 | lead unit | 03-31 → unsigned | 05-30 (not due) | | | | |
| C6 | lead unit | 02-21 → 02-20 (February) | 03-05 → 03-05 | | 03-06 ok | 03-25 relapsed | L3 03-02 |
| C7 | lead unit (other city) | 03-12 → 03-11 | | | | | |
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine

from taizhang.cases.models import Acceptance, Assignment, Case, FollowUp, Recheck
from taizhang.cases.workflow import State
from taizhang.sla.models import Escalation

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
NOW = dt.datetime(2026, 4, 15, 10, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


@dataclass
class District:
    cases: dict[str, Case]


def _case(w, name: str, *, supervising=None, deadline: dt.date | None = None) -> Case:
    return Case.objects.create(number=f"KPI-{name}", title=f"测试问题 {name}", description="测试", source="enterprise",
                               found_on=dt.date(2026, 2, 1), supervising_org=supervising or w.city,
                               responsible_org=w.district, category=w.category, state=State.RECTIFYING,
                               mode=Case.Mode.DEADLINE, deadline_on=deadline)


def _assign(case: Case, org, role: str = Assignment.Role.LEAD, *, due: dt.datetime, signed: dt.datetime | None,
            completed: dt.datetime | None = None) -> Assignment:
    status = Assignment.Status.DONE if completed else (Assignment.Status.SIGNED if signed else
                                                       Assignment.Status.PENDING)
    return Assignment.objects.create(case=case, org=org, role=role, status=status, sign_for_due_at=due,
                                     signed_at=signed, completed_at=completed)


def _followup(case: Case, who, when: dt.datetime, solved: str, satisfaction: int | None) -> None:
    FollowUp.objects.create(case=case, channel=FollowUp.Channel.PHONE, solved=solved, satisfaction=satisfaction,
                            recorded_by=who, recorded_at=when)


def _verdict(case: Case, who, when: dt.datetime, verdict: str) -> None:
    Acceptance.objects.create(case=case, verdict=verdict, checklist={"现场核查": True}, opinion="意见",
                              accepted_by=who, decided_at=when)


@pytest.fixture
def district(world) -> District:
    w = world
    sup = w.supervisor
    with time_machine.travel(NOW, tick=False):
        c1 = _case(w, "C1", deadline=dt.date(2026, 3, 10))
        _assign(c1, w.lead_unit, due=at(3, 3), signed=at(3, 2), completed=at(3, 9))
        _followup(c1, sup, at(3, 20), FollowUp.Solved.SOLVED, 5)
        _verdict(c1, sup, at(3, 15), Acceptance.Verdict.PASSED)
        Recheck.objects.create(case=c1, held=True, checked_by=sup, checked_at=at(3, 28))

        c2 = _case(w, "C2", deadline=dt.date(2026, 3, 20))
        _assign(c2, w.lead_unit, due=at(3, 5), signed=at(3, 6), completed=at(3, 25))
        _followup(c2, sup, at(3, 28), FollowUp.Solved.SOLVED, 3)
        _verdict(c2, sup, at(3, 21), Acceptance.Verdict.REWORK)
        _verdict(c2, sup, at(3, 26), Acceptance.Verdict.PASSED)

        c3 = _case(w, "C3", deadline=dt.date(2026, 3, 31))
        _assign(c3, w.lead_child, due=at(3, 10), signed=at(3, 9))
        _assign(c3, w.power_company, Assignment.Role.CO, due=at(3, 10), signed=None)
        for level, day in ((1, 12), (2, 20)):
            Escalation.objects.create(case=c3, clock="completion", level=level, due_at=at(3, 10),
                                      created_at=at(3, day))

        c4 = _case(w, "C4", deadline=dt.date(2026, 4, 30))
        _assign(c4, w.sibling_unit, due=at(3, 4, 18), signed=at(3, 4, 9))
        _followup(c4, sup, at(3, 17), FollowUp.Solved.UNREACHABLE, None)
        _followup(c4, sup, at(3, 18), FollowUp.Solved.NOT_SOLVED, 2)
        _verdict(c4, sup, at(3, 16), Acceptance.Verdict.PASSED)

        c5 = _case(w, "C5", deadline=dt.date(2026, 5, 30))
        _assign(c5, w.lead_unit, due=at(3, 31), signed=None)

        c6 = _case(w, "C6", deadline=dt.date(2026, 3, 5))
        _assign(c6, w.lead_unit, due=at(2, 21), signed=at(2, 20), completed=at(3, 5))
        _verdict(c6, sup, at(3, 6), Acceptance.Verdict.PASSED)
        Recheck.objects.create(case=c6, held=False, checked_by=sup, checked_at=at(3, 25))
        Escalation.objects.create(case=c6, clock="manual", level=3, due_at=at(3, 2), created_at=at(3, 2))

        c7 = _case(w, "C7", supervising=w.other_city)
        _assign(c7, w.lead_unit, due=at(3, 12), signed=at(3, 11))
    return District(cases={c.number[4:]: c for c in (c1, c2, c3, c4, c5, c6, c7)})


@pytest.fixture
def measuring():
    with time_machine.travel(NOW, tick=False):
        yield
