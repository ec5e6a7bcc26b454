"""Closed cases for campaign tests: a realistic pool written directly (fast), and the seed story's
case driven through the services when the lifecycle itself matters."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from taizhang.cases.models import Case, Category
from taizhang.cases.workflow import State
from taizhang.testing import matrix

SHANGHAI = ZoneInfo("Asia/Shanghai")
SOURCES = [Case.Source.INSPECTION, Case.Source.ENTERPRISE, Case.Source.HOTLINE, Case.Source.LIAISON]


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def closed_pool(world: Any, count: int = 40, *, start: dt.date = dt.date(2024, 1, 1),
                prefix: str = "CC") -> list[Case]:
    """`count` closed cases, one closed every third day from `start`, sources taking turns; every fourth
    belongs to no round, another category and the power company instead of the district."""
    other_category, _ = Category.objects.get_or_create(name="政务服务", parent=None)
    rows = []
    for i in range(count):
        closed_at = at(start + dt.timedelta(days=3 * i))
        in_story = i % 4 != 3
        rows.append(Case(
            number=f"{prefix}-2024-{i + 1:04d}", title=f"回头看样本问题{i + 1}", description="已销号问题",
            source=SOURCES[i % len(SOURCES)], found_on=start, supervising_org=world.city,
            responsible_org=world.district if in_story else world.power_company,
            category=world.category if in_story else other_category,
            inspection_round=world.round if in_story else None, state=State.CLOSED, closed_at=closed_at,
            recheck_due_at=closed_at + dt.timedelta(days=90), created_at=closed_at, updated_at=closed_at))
    Case.objects.bulk_create(rows)
    return list(Case.objects.filter(number__in=[r.number for r in rows]).order_by("number"))


def driven_closed(world: Any, when: dt.datetime = matrix.MOMENT) -> Case:
    """The seed story's case, closed through the services at `when`."""
    with time_machine.travel(when, tick=False):
        case: Case = matrix.drive(matrix.Cast.own(world), State.CLOSED)
    return case
