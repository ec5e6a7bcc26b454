"""The escalation ladder's thresholds and the instants they turn into, given the current time.

Every step of the ladder is a condition on a clock column that compares it with one instant computed
here once per sweep, so the sweeper selects due rows with plain indexed range conditions:

- reminder (level 0): on a working day, deadlines falling within `remind_workdays_before` working days
  (0: on the deadline's own day) that have not passed yet;
- overdue (level 1): the deadline has passed;
- parent leadership (level 2): `level2_after_workdays` (N) whole working days have passed since the
  deadline's day; the step fires on the next working day, i.e. the deadline's date is before the
  (N+1)-th most recent working day up to today;
- supervision order (level 3): the same with N + `level3_after_workdays` (M).
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from taizhang.cases.workflow import Clock
from taizhang.core import workdays
from taizhang.sla.deadlines import end_of_day
from taizhang.sla.models import EscalationPolicy


@dataclass(frozen=True)
class Policy:
    remind_workdays_before: int = 1
    level2_after_workdays: int = 3
    level3_after_workdays: int = 5
    response_workdays: int = 3
    order_reply_workdays: int = 5


# Defaults from published practice: remind a working day ahead; three working days overdue goes to the
# leadership of the responsible organisation (区党工委/管委会), five more to a formal 督办单 with a reply
# within five working days. A unit has only one working day to sign for, so its reminder comes on the
# morning of that day.
DEFAULT_POLICY: dict[Clock, Policy] = {
    Clock.SIGN_FOR: Policy(remind_workdays_before=0),
    Clock.PROGRESS_REPORT: Policy(),
    Clock.COMPLETION: Policy(),
}
MANUAL_POLICY = Policy()


def policies() -> dict[Clock, Policy]:
    """The configured thresholds per swept clock (rows of EscalationPolicy over the defaults)."""
    found = dict(DEFAULT_POLICY)
    for row in EscalationPolicy.objects.all():
        found[Clock(row.clock)] = Policy(
            remind_workdays_before=row.remind_workdays_before, level2_after_workdays=row.level2_after_workdays,
            level3_after_workdays=row.level3_after_workdays, response_workdays=row.response_workdays,
            order_reply_workdays=row.order_reply_workdays)
    return found


def start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone())


def recent_workday(today: dt.date, n: int) -> dt.date:
    """The n-th most recent working day up to and including `today` (n ≥ 1)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    day = today
    while True:
        if workdays.is_workday(day):
            n -= 1
            if n == 0:
                return day
        day -= dt.timedelta(days=1)


def due_within(now: dt.datetime, days: int) -> dt.datetime | None:
    """Reminder horizon: deadlines up to this instant are reminded of; None on a non-working day."""
    today = timezone.localdate(now)
    if not workdays.is_workday(today):
        return None
    return end_of_day(workdays.add_workdays(today, days))


def overdue_since_before(now: dt.datetime, whole_workdays: int) -> dt.datetime:
    """Deadlines before this instant have had `whole_workdays` whole working days pass after their day."""
    return start_of_day(recent_workday(timezone.localdate(now), whole_workdays + 1))


def workdays_from(now: dt.datetime, days: int) -> dt.datetime:
    """A reply deadline: the end of the day `days` working days after today."""
    return end_of_day(workdays.add_workdays(timezone.localdate(now), days))
