"""Deadline computation: the clock's time limit (category × mode) applied in working days."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from taizhang.cases.workflow import Clock
from taizhang.core import workdays
from taizhang.sla.models import TimeLimit


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: str = TimeLimit.Unit.WORKDAYS


# Defaults from published practice: sign-for within 1 working day and return within 2 (北京接诉即办),
# 限期整改 within 15 working days, progress every 5 working days, follow-up within 5 working days of
# acceptance, 回头看 three months after closure. 立行立改 falls within the inspection period when the
# case belongs to a round, else 5 working days; 长期整改 gets 60 working days between reviews.
DEFAULT_LIMITS: dict[tuple[Clock, str], Limit] = {
    (Clock.SIGN_FOR, ""): Limit(1),
    (Clock.DECLINE_WINDOW, ""): Limit(2),
    (Clock.PROGRESS_REPORT, ""): Limit(5),
    (Clock.COMPLETION, "immediate"): Limit(5),
    (Clock.COMPLETION, "deadline"): Limit(15),
    (Clock.COMPLETION, "long_term"): Limit(60),
    (Clock.COMPLETION, ""): Limit(15),
    (Clock.LEDGER_REVIEW, ""): Limit(60),
    (Clock.FOLLOWUP, ""): Limit(5),
    (Clock.RECHECK, ""): Limit(90, TimeLimit.Unit.DAYS),
}

# Where each default comes from; stored in `TimeLimit.basis` when the defaults are seeded.
DEFAULT_BASIS: dict[tuple[Clock, str], str] = {
    (Clock.SIGN_FOR, ""): "参照北京市接诉即办实践：承办单位1个工作日内签收",
    (Clock.DECLINE_WINDOW, ""): "参照北京市接诉即办实践：不属于本单位职责的，2个工作日内申请退回",
    (Clock.PROGRESS_REPORT, ""): "整改期间每5个工作日报送一次整改进展",
    (Clock.COMPLETION, "immediate"): "立行立改：在巡察期间内完成；不属于巡察轮次的，5个工作日内整改到位",
    (Clock.COMPLETION, "deadline"): "限期整改：15个工作日内整改到位",
    (Clock.COMPLETION, "long_term"): "长期整改：每60个工作日复核一次，挂账推进",
    (Clock.COMPLETION, ""): "未定整改方式时按限期整改，15个工作日",
    (Clock.LEDGER_REVIEW, ""): "挂账整改事项每60个工作日复核",
    (Clock.FOLLOWUP, ""): "验收通过后5个工作日内回访企业",
    (Clock.RECHECK, ""): "销号3个月后开展回头看",
}


def seed_default_time_limits(model: type[TimeLimit] = TimeLimit) -> int:
    """Store DEFAULT_LIMITS as "any category" rows with their basis, so admins can see and edit them.
    Rows that exist already are left as they are. Returns how many rows were created. `model` lets a
    data migration pass its historical model."""
    created = 0
    for (clock, mode), limit in DEFAULT_LIMITS.items():
        _, is_new = model.objects.get_or_create(
            clock=clock.value, category=None, mode=mode,
            defaults={"amount": limit.amount, "unit": str(limit.unit), "basis": DEFAULT_BASIS[(clock, mode)]},
        )
        created += is_new
    return created


def limit_for(clock: Clock, category_ids: list[int], mode: str) -> Limit:
    """The most specific configured limit: own category, then ancestors (nearest first), then any
    category; within each, the exact mode before any mode. Falls back to DEFAULT_LIMITS."""
    rows = {
        (row.category_id, row.mode): Limit(row.amount, row.unit)
        for row in TimeLimit.objects.filter(clock=clock).only("category_id", "mode", "amount", "unit")
    }
    for category_id in [*reversed(category_ids), None]:
        for m in (mode, ""):
            if (category_id, m) in rows:
                return rows[(category_id, m)]
    return DEFAULT_LIMITS.get((clock, mode)) or DEFAULT_LIMITS[(clock, "")]


def end_of_day(day: dt.date) -> dt.datetime:
    """A due date as an instant: the end of that day in the project's time zone."""
    start_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(start_next, timezone.get_default_timezone()) - dt.timedelta(microseconds=1)


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def due_date(start: dt.datetime, limit: Limit) -> dt.date:
    local_start = timezone.localdate(start)
    if limit.unit == TimeLimit.Unit.DAYS:
        return local_start + dt.timedelta(days=limit.amount)
    return workdays.add_workdays(local_start, limit.amount)


def deadline(clock: Clock, *, start: dt.datetime, category_ids: list[int], mode: str) -> dt.datetime:
    return end_of_day(due_date(start, limit_for(clock, category_ids, mode)))


def shifted_by_pause(due_at: dt.datetime, paused_at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """A completion deadline after a refused extension: moved on by the working days the request waited,
    when the request came before the deadline had passed (a unit is not charged for the time the decision
    took). A request made after the deadline shifts nothing: the case was overdue already."""
    if paused_at >= due_at:
        return due_at
    waited = workdays.workdays_between(local_date(paused_at), local_date(now))
    if waited <= 0:
        return due_at
    return end_of_day(workdays.add_workdays(local_date(due_at), waited))
