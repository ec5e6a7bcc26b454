import datetime as dt
import zoneinfo

import pytest

from taizhang.cases.models import Category
from taizhang.cases.workflow import Clock
from taizhang.core import workdays
from taizhang.sla import deadlines
from taizhang.sla.deadlines import DEFAULT_LIMITS, Limit, deadline, due_date, end_of_day, limit_for
from taizhang.sla.models import TimeLimit

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
WORKDAYS, DAYS = TimeLimit.Unit.WORKDAYS, TimeLimit.Unit.DAYS


@pytest.fixture
def calendar(db):
    workdays.seed_calendar(2024, 2026)


@pytest.fixture
def tree(db):
    root = Category.objects.create(name="营商环境")
    branch = Category.objects.create(name="要素保障", parent=root)
    leaf = Category.objects.create(name="供电", parent=branch)
    other = Category.objects.create(name="政务服务", parent=root)
    return root, branch, leaf, other


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
             microsecond: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, microsecond, tzinfo=SHANGHAI)


def test_migration_seeds_every_default_with_its_basis(db):
    rows = {(r.clock, r.mode): r for r in TimeLimit.objects.filter(category=None)}
    assert set(rows) == {(clock.value, mode) for clock, mode in DEFAULT_LIMITS}
    for (clock, mode), limit in DEFAULT_LIMITS.items():
        row = rows[(clock.value, mode)]
        assert (row.amount, row.unit) == (limit.amount, limit.unit)
        assert row.basis
    assert rows[("sign_for", "")].amount == 1
    assert rows[("completion", "deadline")].amount == 15
    assert (rows[("recheck", "")].amount, rows[("recheck", "")].unit) == (90, DAYS)


def test_seeding_defaults_keeps_admin_changes(db):
    TimeLimit.objects.filter(clock=Clock.SIGN_FOR, category=None, mode="").update(amount=2, basis="本地规定")
    assert deadlines.seed_default_time_limits() == 0
    assert TimeLimit.objects.get(clock=Clock.SIGN_FOR, category=None, mode="").amount == 2


def test_most_specific_row_wins(tree):
    root, branch, leaf, other = tree
    path = [root.pk, branch.pk, leaf.pk]
    completion = Clock.COMPLETION

    # Only the seeded "any category" rows: the exact mode beats "any mode".
    assert limit_for(completion, path, "immediate") == Limit(5)
    assert limit_for(completion, path, "long_term") == Limit(60)
    assert limit_for(completion, path, "") == Limit(15)

    TimeLimit.objects.create(clock=completion, category=root, mode="", amount=20)
    assert limit_for(completion, path, "immediate") == Limit(20)  # an ancestor beats "any category"

    TimeLimit.objects.create(clock=completion, category=branch, mode="deadline", amount=10)
    assert limit_for(completion, path, "deadline") == Limit(10)  # the nearer ancestor wins
    assert limit_for(completion, path, "immediate") == Limit(20)  # branch has no row for this mode

    TimeLimit.objects.create(clock=completion, category=leaf, mode="", amount=8)
    assert limit_for(completion, path, "deadline") == Limit(8)  # own category beats its ancestors

    TimeLimit.objects.create(clock=completion, category=leaf, mode="deadline", amount=6, unit=DAYS)
    assert limit_for(completion, path, "deadline") == Limit(6, DAYS)  # exact mode beats any mode
    assert limit_for(completion, path, "long_term") == Limit(8)

    # A sibling branch only sees the root row; another clock is untouched.
    assert limit_for(completion, [root.pk, other.pk], "deadline") == Limit(20)
    assert limit_for(Clock.SIGN_FOR, path, "deadline") == Limit(1)


def test_without_any_row_the_code_defaults_apply(db):
    TimeLimit.objects.all().delete()
    assert limit_for(Clock.SIGN_FOR, [], "") == Limit(1)
    assert limit_for(Clock.COMPLETION, [], "long_term") == Limit(60)
    assert limit_for(Clock.COMPLETION, [], "unknown") == Limit(15)
    assert limit_for(Clock.RECHECK, [], "deadline") == Limit(90, DAYS)


def test_end_of_day_is_the_last_microsecond_in_shanghai():
    moment = end_of_day(dt.date(2025, 10, 9))
    assert moment == shanghai(2025, 10, 9, 23, 59, 59, 999999)
    assert moment.astimezone(dt.UTC) == dt.datetime(2025, 10, 9, 15, 59, 59, 999999, tzinfo=dt.UTC)


def test_calendar_days_ignore_holidays_and_working_days_skip_them(calendar):
    start = shanghai(2025, 9, 30, 10)
    assert due_date(start, Limit(3, DAYS)) == dt.date(2025, 10, 3)
    assert due_date(start, Limit(3, WORKDAYS)) == dt.date(2025, 10, 11)  # 10/9, 10/10, make-up Saturday
    assert due_date(start, Limit(90, DAYS)) == dt.date(2025, 12, 29)


def test_start_is_read_as_a_shanghai_date(calendar):
    # 2025-09-29 16:30 UTC is already 30 September in Shanghai, the last working day before 国庆.
    start = dt.datetime(2025, 9, 29, 16, 30, tzinfo=dt.UTC)
    assert due_date(start, Limit(1)) == dt.date(2025, 10, 9)
    assert due_date(dt.datetime(2025, 9, 29, 15, 30, tzinfo=dt.UTC), Limit(1)) == dt.date(2025, 9, 30)


@pytest.mark.parametrize(("clock", "mode", "start", "due"), [
    # Handed over on the last working day before 国庆 2025: sign for by the first day back.
    (Clock.SIGN_FOR, "deadline", shanghai(2025, 9, 30, 16), shanghai(2025, 10, 9, 23, 59, 59, 999999)),
    (Clock.DECLINE_WINDOW, "", shanghai(2025, 9, 30, 16), shanghai(2025, 10, 10, 23, 59, 59, 999999)),
    # Handed over on the holiday itself: the make-up Sunday before does not help.
    (Clock.SIGN_FOR, "", shanghai(2025, 10, 3, 9), shanghai(2025, 10, 9, 23, 59, 59, 999999)),
    # 限期整改 15 working days from 19 September: 9/28 and 10/11 count, 10/1–10/8 do not.
    (Clock.COMPLETION, "deadline", shanghai(2025, 9, 19, 11), shanghai(2025, 10, 16, 23, 59, 59, 999999)),
    (Clock.PROGRESS_REPORT, "", shanghai(2025, 9, 26, 11), shanghai(2025, 10, 10, 23, 59, 59, 999999)),
    # 回头看 three months (90 calendar days) after closure.
    (Clock.RECHECK, "", shanghai(2025, 10, 1, 9), shanghai(2025, 12, 30, 23, 59, 59, 999999)),
])
def test_deadline_across_national_day_2025(calendar, clock, mode, start, due):
    assert deadline(clock, start=start, category_ids=[], mode=mode) == due


def test_category_limit_changes_the_deadline(calendar, tree):
    root, branch, leaf, _ = tree
    TimeLimit.objects.create(clock=Clock.COMPLETION, category=branch, mode="immediate", amount=2)
    due = deadline(Clock.COMPLETION, start=shanghai(2025, 9, 30, 9), category_ids=[root.pk, branch.pk, leaf.pk],
                   mode="immediate")
    assert due == shanghai(2025, 10, 10, 23, 59, 59, 999999)
