"""Working days in mainland China: Monday–Friday, minus statutory holidays, plus 调休 make-up days.

The exceptions live in `CalendarDay` (seeded from chinese-calendar, editable by admins). Each process
keeps them in a frozen set that is
- dropped at once when a `CalendarDay` is saved or deleted in this process (signals), and
- reloaded at most `TAIZHANG_CALENDAR_TTL_SECONDS` (default 30) after it was loaded, so an admin's
  edit made through another server process is seen within that bound.
A reload is one query of a few hundred small rows; between reloads a lookup costs no query.
"""

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from taizhang.core.models import CalendarDay

DEFAULT_TTL_SECONDS = 30.0

# chinese-calendar covers 2004 to the last year the State Council had published when it was released.
SEED_FIRST_YEAR = 2004


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


@dataclass
class _Cache:
    calendar: Calendar | None = None
    expires_at: float = 0.0
    generation: int = 0  # bumped by invalidate(), so a load that raced with it is not kept
    lock: threading.Lock = field(default_factory=threading.Lock)


_cache = _Cache()
# Indirection so tests can move time forward without sleeping.
_monotonic: Callable[[], float] = time.monotonic


def ttl_seconds() -> float:
    return float(getattr(settings, "TAIZHANG_CALENDAR_TTL_SECONDS", DEFAULT_TTL_SECONDS))


def _load() -> Calendar:
    rows = list(CalendarDay.objects.values_list("date", "kind"))
    return Calendar(
        holidays=frozenset(d for d, k in rows if k == CalendarDay.Kind.HOLIDAY),
        workdays=frozenset(d for d, k in rows if k == CalendarDay.Kind.WORKDAY),
    )


def calendar() -> Calendar:
    """The current calendar, reloaded when invalidated or older than the TTL."""
    cached, now = _cache.calendar, _monotonic()
    if cached is not None and now < _cache.expires_at:
        return cached
    with _cache.lock:
        if _cache.calendar is not None and _monotonic() < _cache.expires_at:
            return _cache.calendar
        generation = _cache.generation
        loaded = _load()
        if generation == _cache.generation:
            _cache.calendar = loaded
            _cache.expires_at = _monotonic() + ttl_seconds()
        return loaded


def invalidate() -> None:
    """Forget the cached calendar; the next lookup reloads it."""
    _cache.generation += 1
    _cache.calendar = None
    _cache.expires_at = 0.0


def invalidate_on_commit() -> None:
    """Invalidate now and again after the surrounding transaction commits, so a lookup made inside
    the transaction cannot leave a cache that misses the committed change."""
    invalidate()
    transaction.on_commit(invalidate)


def is_workday(day: dt.date) -> bool:
    return calendar().is_workday(day)


def next_workday(day: dt.date) -> dt.date:
    """The first working day strictly after `day`."""
    return add_workdays(day, 1)


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


# --- Seeding from chinese-calendar -------------------------------------------------------------


@dataclass(frozen=True)
class OfficialDay:
    date: dt.date
    kind: str
    name: str


def official_exceptions(first_year: int, last_year: int) -> list[OfficialDay]:
    """Days in [first_year, last_year] that break the Monday–Friday rule according to the installed
    chinese-calendar: holidays on weekdays and make-up working days on weekends. Weekend days inside
    a holiday are left out; they are days off anyway."""
    from chinese_calendar import constants

    chinese_names = {holiday.value: holiday.chinese for holiday in constants.Holiday}
    days: list[OfficialDay] = []
    for day, english in constants.holidays.items():
        if first_year <= day.year <= last_year and day.weekday() < 5:
            days.append(OfficialDay(day, CalendarDay.Kind.HOLIDAY, chinese_names.get(english, english)))
    for day, english in constants.workdays.items():
        if first_year <= day.year <= last_year and day.weekday() >= 5:
            name = f"{chinese_names.get(english, english)}调休上班"
            days.append(OfficialDay(day, CalendarDay.Kind.WORKDAY, name))
    return sorted(days, key=lambda e: e.date)


def official_last_year() -> int:
    """The last year chinese-calendar knows."""
    from chinese_calendar import constants

    last: int = max(day.year for day in constants.holidays)
    return last


@dataclass(frozen=True)
class SeedResult:
    inserted: int
    unchanged: int
    differing: list[tuple[dt.date, str, str]]  # (date, kind in the table, kind in chinese-calendar)
    years_without_data: list[int]


def seed_calendar(first_year: int | None = None, last_year: int | None = None, *,
                  model: type[CalendarDay] = CalendarDay) -> SeedResult:
    """Insert the chinese-calendar exceptions for the given years that the table does not have yet.

    Idempotent, and it never updates or deletes a row: an existing date (seeded earlier or entered
    by an admin) is kept as it is; when its kind differs from chinese-calendar it is reported in
    `differing`. To turn a seeded weekday holiday into a working day, change its kind rather than
    deleting it, or a later seed puts it back. `model` lets a data migration pass its historical model.
    """
    known_last = official_last_year()
    first = SEED_FIRST_YEAR if first_year is None else first_year
    last = known_last if last_year is None else last_year
    if first > last:
        raise ValueError(f"first year {first} is after last year {last}")
    wanted = official_exceptions(first, last)
    existing = dict(
        model.objects.filter(date__year__gte=first, date__year__lte=last).values_list("date", "kind")
    )
    missing = [e for e in wanted if e.date not in existing]
    differing = [(e.date, existing[e.date], e.kind) for e in wanted
                 if e.date in existing and existing[e.date] != e.kind]
    with transaction.atomic():
        model.objects.bulk_create(
            [model(date=e.date, kind=e.kind, name=e.name) for e in missing], ignore_conflicts=True
        )
    invalidate_on_commit()
    return SeedResult(
        inserted=len(missing),
        unchanged=len(wanted) - len(missing),
        differing=differing,
        years_without_data=[y for y in range(first, last + 1) if not SEED_FIRST_YEAR <= y <= known_last],
    )
