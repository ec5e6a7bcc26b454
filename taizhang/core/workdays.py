"""Working days in mainland China: Monday–Friday, minus statutory holidays, plus 调休 make-up days.

The exceptions live in `CalendarDay` (seeded from chinese-calendar, editable by admins). They are
loaded once per process into a frozen set and reloaded when the table changes.
"""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from taizhang.core.models import CalendarDay


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


@lru_cache(maxsize=1)
def calendar() -> Calendar:
    rows = list(CalendarDay.objects.values_list("date", "kind"))
    return Calendar(
        holidays=frozenset(d for d, k in rows if k == CalendarDay.Kind.HOLIDAY),
        workdays=frozenset(d for d, k in rows if k == CalendarDay.Kind.WORKDAY),
    )


def invalidate() -> None:
    calendar.cache_clear()


def is_workday(day: dt.date) -> bool:
    return calendar().is_workday(day)


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The date `n` working days after `start` (n ≥ 0). `start` itself never counts, so a limit
    of 1 working day set on a Friday falls due on the next working Monday; n = 0 gives `start`
    moved forward to a working day."""
    if n < 0:
        raise ValueError("n must be >= 0")
    cal = calendar()
    day = start
    if n == 0:
        while not cal.is_workday(day):
            day += dt.timedelta(days=1)
        return day
    while n:
        day += dt.timedelta(days=1)
        if cal.is_workday(day):
            n -= 1
    return day


def workdays_between(a: dt.date, b: dt.date) -> int:
    """Working days in the half-open interval (a, b]; negative when b is before a."""
    if b < a:
        return -workdays_between(b, a)
    cal = calendar()
    count = 0
    day = a
    while day < b:
        day += dt.timedelta(days=1)
        if cal.is_workday(day):
            count += 1
    return count
