"""Working days against the State Council's published schedules (国务院办公厅关于2024/2025/2026年部分
节假日安排的通知: 国办发明电〔2023〕7号, 〔2024〕12号, 〔2025〕7号). Expected values are typed in from
the notices, never derived from chinese-calendar."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from taizhang.core import workdays
from taizhang.core.models import CalendarDay
from taizhang.core.workdays import add_workdays, is_workday, next_workday, workdays_between

D = dt.date


def days(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(n) for n in range((last - first).days + 1)}


# year -> (days off, make-up working days), exactly as the notices list them.
OFFICIAL = {
    2024: (
        days(D(2024, 1, 1), D(2024, 1, 1))  # 元旦
        | days(D(2024, 2, 10), D(2024, 2, 17))  # 春节
        | days(D(2024, 4, 4), D(2024, 4, 6))  # 清明节
        | days(D(2024, 5, 1), D(2024, 5, 5))  # 劳动节
        | days(D(2024, 6, 10), D(2024, 6, 10))  # 端午节
        | days(D(2024, 9, 15), D(2024, 9, 17))  # 中秋节
        | days(D(2024, 10, 1), D(2024, 10, 7)),  # 国庆节
        {D(2024, 2, 4), D(2024, 2, 18), D(2024, 4, 7), D(2024, 4, 28), D(2024, 5, 11), D(2024, 9, 14),
         D(2024, 9, 29), D(2024, 10, 12)},
    ),
    2025: (
        days(D(2025, 1, 1), D(2025, 1, 1))
        | days(D(2025, 1, 28), D(2025, 2, 4))
        | days(D(2025, 4, 4), D(2025, 4, 6))
        | days(D(2025, 5, 1), D(2025, 5, 5))
        | days(D(2025, 5, 31), D(2025, 6, 2))
        | days(D(2025, 10, 1), D(2025, 10, 8)),  # 国庆节、中秋节 together
        {D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)},
    ),
    2026: (
        days(D(2026, 1, 1), D(2026, 1, 3))
        | days(D(2026, 2, 15), D(2026, 2, 23))
        | days(D(2026, 4, 4), D(2026, 4, 6))
        | days(D(2026, 5, 1), D(2026, 5, 5))
        | days(D(2026, 6, 19), D(2026, 6, 21))
        | days(D(2026, 9, 25), D(2026, 9, 27))
        | days(D(2026, 10, 1), D(2026, 10, 7)),
        {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)},
    ),
}


def official_is_workday(day: dt.date) -> bool:
    off, make_up = OFFICIAL[day.year]
    return day in make_up or (day.weekday() < 5 and day not in off)


@pytest.fixture
def official_calendar(db):
    """The seeded calendar; re-seeding is a no-op when the migration's rows are there."""
    workdays.seed_calendar(2024, 2026)


def test_migrate_alone_seeds_the_calendar(db):
    assert CalendarDay.objects.filter(date=D(2025, 1, 28), kind=CalendarDay.Kind.HOLIDAY).exists()
    assert CalendarDay.objects.filter(date=D(2025, 1, 26), kind=CalendarDay.Kind.WORKDAY).exists()
    assert CalendarDay.objects.filter(date__year=2004).exists()


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_every_day_of_the_year_matches_the_state_council_notice(official_calendar, year):
    wrong = [d for d in days(D(year, 1, 1), D(year, 12, 31)) if is_workday(d) != official_is_workday(d)]
    assert sorted(wrong) == []


@pytest.mark.parametrize(("year", "working_days"), [(2024, 251), (2025, 248), (2026, 248)])
def test_working_days_per_year(official_calendar, year, working_days):
    # Counted by hand: weekdays − weekday holidays + make-up days (2024: 262 − 19 + 8).
    assert sum(official_is_workday(d) for d in days(D(year, 1, 1), D(year, 12, 31))) == working_days
    assert workdays_between(D(year - 1, 12, 31), D(year, 12, 31)) == working_days


def test_only_exceptions_to_monday_friday_are_stored(official_calendar):
    assert not CalendarDay.objects.filter(date=D(2025, 2, 1)).exists()  # Saturday inside 春节
    assert not is_workday(D(2025, 2, 1))
    assert CalendarDay.objects.get(date=D(2025, 2, 3)).name == "春节"
    assert CalendarDay.objects.get(date=D(2025, 2, 8)).name == "春节调休上班"


@pytest.mark.parametrize(("start", "n", "due"), [
    # A 1-working-day limit set on the last working day before 春节 falls after the holiday.
    (D(2025, 1, 27), 1, D(2025, 2, 5)),
    (D(2024, 2, 9), 1, D(2024, 2, 18)),  # 除夕 2024 is a working day; Sunday 2/18 is a make-up day
    # A make-up Saturday counts as a working day.
    (D(2025, 2, 7), 1, D(2025, 2, 8)),
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 14), 1, D(2026, 2, 24)),
    # 国庆 2025 (merged with 中秋, 8 days) with make-up Sunday 9/28 and Saturday 10/11.
    (D(2025, 9, 26), 1, D(2025, 9, 28)),
    (D(2025, 9, 30), 1, D(2025, 10, 9)),
    (D(2025, 9, 30), 3, D(2025, 10, 11)),
    (D(2025, 9, 30), 4, D(2025, 10, 13)),
    (D(2026, 9, 30), 1, D(2026, 10, 8)),
    (D(2026, 10, 9), 1, D(2026, 10, 10)),
    # 15 working days from 2025-09-19 (a 限期整改 limit) spans 国庆.
    (D(2025, 9, 19), 15, D(2025, 10, 16)),
    # A start on a holiday: the start never counts.
    (D(2025, 10, 1), 1, D(2025, 10, 9)),
    (D(2024, 5, 3), 2, D(2024, 5, 7)),
])
def test_add_workdays_across_holidays_and_make_up_days(official_calendar, start, n, due):
    assert add_workdays(start, n) == due
    assert workdays_between(start, due) == n


@pytest.mark.parametrize(("start", "result"), [
    (D(2025, 10, 1), D(2025, 10, 9)),  # holiday moves forward
    (D(2025, 10, 11), D(2025, 10, 11)),  # make-up Saturday is already a working day
    (D(2025, 10, 10), D(2025, 10, 10)),
    (D(2025, 10, 12), D(2025, 10, 13)),  # ordinary Sunday
])
def test_zero_working_days_moves_to_a_working_day(official_calendar, start, result):
    assert add_workdays(start, 0) == result


def test_negative_amount_is_refused(official_calendar):
    with pytest.raises(ValueError, match="n must be"):
        add_workdays(D(2025, 1, 2), -1)


def test_next_workday(official_calendar):
    assert next_workday(D(2026, 2, 13)) == D(2026, 2, 14)
    assert next_workday(D(2026, 9, 30)) == D(2026, 10, 8)


def test_workdays_between_is_half_open_and_antisymmetric(official_calendar):
    a, b = D(2025, 9, 30), D(2025, 10, 9)
    assert workdays_between(a, b) == 1
    assert workdays_between(b, a) == -1
    assert workdays_between(a, a) == 0
    assert workdays_between(D(2025, 10, 1), D(2025, 10, 8)) == 0  # all holiday
    # (1/24, 2/10] over 春节 2025: 1/26 (make-up Sunday), 1/27, 2/5, 2/6, 2/7, 2/8 (make-up Saturday), 2/10
    assert workdays_between(D(2025, 1, 24), D(2025, 2, 10)) == 7
    assert workdays_between(D(2025, 2, 10), D(2025, 1, 24)) == -7


# --- Admin edits and the per-process cache -----------------------------------------------------

NATIONAL_DAY_2027 = [D(2027, 10, 1), D(2027, 10, 4), D(2027, 10, 5), D(2027, 10, 6), D(2027, 10, 7)]


def test_admin_entering_a_future_year_takes_effect_at_once(official_calendar):
    # 2027 is beyond chinese-calendar 1.11; an admin types in a (hypothetical) 国庆 schedule.
    assert not CalendarDay.objects.filter(date__year=2027).exists()
    assert add_workdays(D(2027, 9, 30), 1) == D(2027, 10, 1)  # caches the calendar
    for day in NATIONAL_DAY_2027:
        CalendarDay.objects.create(date=day, kind=CalendarDay.Kind.HOLIDAY, name="国庆节")
    CalendarDay.objects.create(date=D(2027, 10, 9), kind=CalendarDay.Kind.WORKDAY, name="国庆节调休上班")
    assert not is_workday(D(2027, 10, 4))
    assert add_workdays(D(2027, 9, 30), 1) == D(2027, 10, 8)
    assert add_workdays(D(2027, 10, 8), 1) == D(2027, 10, 9)

    edited = CalendarDay.objects.get(date=D(2027, 10, 7))
    edited.kind = CalendarDay.Kind.WORKDAY
    edited.save()
    assert is_workday(D(2027, 10, 7))
    CalendarDay.objects.filter(date=D(2027, 10, 1)).get().delete()
    assert add_workdays(D(2027, 9, 30), 1) == D(2027, 10, 1)


def test_seeding_never_overwrites_an_admin_edit(official_calendar):
    row = CalendarDay.objects.get(date=D(2026, 2, 23))
    row.kind, row.name = CalendarDay.Kind.WORKDAY, "本地安排上班"
    row.save()
    result = workdays.seed_calendar(2026, 2026)
    assert result.inserted == 0
    assert result.differing == [(D(2026, 2, 23), "workday", "holiday")]
    row.refresh_from_db()
    assert (row.kind, row.name) == ("workday", "本地安排上班")
    assert is_workday(D(2026, 2, 23))


def test_seeding_is_idempotent_and_fills_only_missing_dates(official_calendar):
    CalendarDay.objects.filter(date=D(2025, 10, 8)).delete()
    assert is_workday(D(2025, 10, 8))
    first = workdays.seed_calendar(2025, 2025)
    assert first.inserted == 1
    assert not is_workday(D(2025, 10, 8))
    second = workdays.seed_calendar(2025, 2025)
    assert second.inserted == 0
    assert second.unchanged == first.unchanged + 1
    assert CalendarDay.objects.filter(date__year=2025).count() == second.unchanged


def test_seed_command_reports_years_without_data(official_calendar):
    out = io.StringIO()
    call_command("seed_calendar", "--from", "2026", "--to", "2027", stdout=out)
    assert "已新增 0 天" in out.getvalue()
    assert "2027" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("seed_calendar", "--from", "2027", "--to", "2026", stdout=out)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def fake_clock(monkeypatch, settings):
    settings.TAIZHANG_CALENDAR_TTL_SECONDS = 30
    clock = FakeClock()
    monkeypatch.setattr(workdays, "_monotonic", clock)
    workdays.invalidate()
    return clock


def test_change_made_by_another_process_is_seen_after_the_ttl(official_calendar, fake_clock,
                                                               django_assert_num_queries):
    # Bulk writes send no signals, like an edit made in another server process.
    assert is_workday(D(2027, 10, 4))
    CalendarDay.objects.bulk_create([CalendarDay(date=D(2027, 10, 4), kind=CalendarDay.Kind.HOLIDAY)])
    fake_clock.now += 29
    with django_assert_num_queries(0):
        assert is_workday(D(2027, 10, 4))  # still the cached calendar
    fake_clock.now += 2
    assert not is_workday(D(2027, 10, 4))

    CalendarDay.objects.filter(date=D(2027, 10, 4)).update(kind=CalendarDay.Kind.WORKDAY)
    fake_clock.now += 31
    assert is_workday(D(2027, 10, 4))


def test_cached_lookups_run_no_query(official_calendar, django_assert_num_queries):
    is_workday(D(2025, 1, 1))
    with django_assert_num_queries(0):
        add_workdays(D(2025, 1, 27), 30)
        workdays_between(D(2024, 1, 1), D(2026, 12, 31))


def test_commit_of_an_admin_edit_invalidates_again(official_calendar, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        CalendarDay.objects.create(date=D(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦")
        assert not is_workday(D(2027, 1, 1))  # a lookup inside the transaction caches the new row
    assert callbacks  # and the cache is dropped once more after commit
    assert workdays._cache.calendar is None


def test_a_load_that_races_with_an_invalidation_is_not_kept(official_calendar, monkeypatch):
    real_load = workdays._load

    def load_while_an_admin_saves():
        loaded = real_load()
        workdays.invalidate()  # another thread's save lands while this load is in flight
        return loaded

    monkeypatch.setattr(workdays, "_load", load_while_an_admin_saves)
    assert is_workday(D(2025, 10, 9))
    assert workdays._cache.calendar is None
    monkeypatch.setattr(workdays, "_load", real_load)
    assert is_workday(D(2025, 10, 9))
    assert workdays._cache.calendar is not None
