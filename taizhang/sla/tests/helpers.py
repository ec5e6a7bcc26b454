"""Cases on the clock for the sweeper's tests, driven through the services at frozen moments."""

import datetime as dt
from typing import Any

import time_machine
from django.utils import timezone

from taizhang.cases import services
from taizhang.cases.workflow import State
from taizhang.core.models import OutboxMessage
from taizhang.sla.sweeper import SweepResult, sweep
from taizhang.testing.matrix import Cast, drive, pdf_upload

TZ = timezone.get_default_timezone()


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def handed_over(world: Any, when: dt.datetime, *, deadline: dt.date | None = None, title: str = "供电频繁闪断") -> Any:
    """A case approved at `when` (its sign-for clock running), with an agreed rectification deadline."""
    with time_machine.travel(when, tick=False):
        case = drive(Cast.own(world), State.ASSESSING, title=title)
        inputs: dict[str, Any] = {"deadline": deadline} if deadline else {}
        case = services.propose_handover(case, actor=world.supervisor, responsible_org=world.district,
                                         lead_org=world.lead_unit, co_orgs=[], mode="deadline", **inputs)
        return services.approve_handover(case, actor=world.approver)


def rectifying(world: Any, when: dt.datetime, *, deadline: dt.date | None = None, title: str = "供电频繁闪断") -> Any:
    case = handed_over(world, when, deadline=deadline, title=title)
    with time_machine.travel(when + dt.timedelta(minutes=5), tick=False):
        return services.sign_for_case(case, actor=world.unit_leader)


def report(world: Any, case: Any, when: dt.datetime) -> Any:
    with time_machine.travel(when, tick=False):
        return services.report_progress(case, actor=world.handler, text="施工中", evidence=[pdf_upload()])


def sweep_at(moment: dt.datetime, **kwargs: Any) -> SweepResult:
    with time_machine.travel(moment, tick=False):
        return sweep(**kwargs)


def sweep_days(first: dt.date, last: dt.date, hours: tuple[int, ...] = (0, 9, 18)) -> None:
    """Sweep a few times a day, every day from `first` to `last`."""
    day = first
    while day <= last:
        for hour in hours:
            sweep_at(at(day, hour, 1))
        day += dt.timedelta(days=1)


def sweep_messages(case_number: str | None = None) -> list[OutboxMessage]:
    messages = OutboxMessage.objects.filter(topic__regex=r"^(case\.(reminder|overdue|escalated)|supervision_order\.)")
    found = list(messages.order_by("pk"))
    return [m for m in found if case_number is None or m.payload.get("case") == case_number]


STEP_TOPICS = frozenset({"case.reminder", "case.overdue", "case.escalated", "supervision_order.issued"})


def fired(case_number: str, clock: str) -> dict[int, dt.date]:
    """level -> the local date its message was written, for one clock of one case; fails on a repeat."""
    result: dict[int, dt.date] = {}
    for message in sweep_messages(case_number):
        if message.topic in STEP_TOPICS and message.payload.get("clock") == clock:
            level = message.payload["level"]
            assert level not in result, f"level {level} of {clock} fired twice"
            result[level] = timezone.localdate(message.created_at)
    return result
