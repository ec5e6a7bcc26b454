"""A co-handling unit's own sign-for deadline (per assignment): reminded and flagged overdue once, to that
unit, and left alone once it signs for."""

import collections
import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils.timezone import localdate

from taizhang.audit.models import AuditEvent
from taizhang.audit.verify import verify_chain
from taizhang.cases import services
from taizhang.cases.models import Assignment, Case
from taizhang.cases.workflow import State
from taizhang.core.models import OutboxMessage
from taizhang.core.workdays import seed_calendar
from taizhang.notifications.tests.helpers import deliver, told
from taizhang.sla.deadlines import seed_default_time_limits
from taizhang.sla.models import Escalation, EscalationPolicy
from taizhang.sla.sweeper import SweepResult
from taizhang.sla.tests.helpers import at, sweep_at, sweep_days, sweep_messages
from taizhang.sla.tests.test_parallel import _run_parallel
from taizhang.testing.matrix import Cast, drive

D = dt.date


def with_co_unit(world: Any, when: dt.datetime, *, title: str = "供电频繁闪断", lead_signs: bool = False) -> Case:
    """A case handed over at `when` to the lead unit with the power company co-handling it."""
    with time_machine.travel(when, tick=False):
        case = drive(Cast.own(world), State.ASSESSING, title=title)
        case = services.propose_handover(case, actor=world.supervisor, responsible_org=world.district,
                                         lead_org=world.lead_unit, co_orgs=[world.power_company], mode="deadline")
        case = services.approve_handover(case, actor=world.approver)
    if lead_signs:
        with time_machine.travel(when + dt.timedelta(minutes=5), tick=False):
            case = services.sign_for_case(case, actor=world.unit_leader)
    return case


def co_fired(case_number: str) -> dict[int, dt.date]:
    """level -> local date of the co-handling unit's sign-for messages of one case; fails on a repeat."""
    result: dict[int, dt.date] = {}
    for message in sweep_messages(case_number):
        if message.payload.get("role") == "co":
            level = message.payload["level"]
            assert level not in result, f"co-unit level {level} fired twice"
            result[level] = localdate(message.created_at)
    return result


def co_assignment(case: Case) -> Assignment:
    return Assignment.objects.get(case=case, role=Assignment.Role.CO)


def _counts() -> tuple[int, int, int]:
    return Escalation.objects.count(), OutboxMessage.objects.count(), AuditEvent.objects.count()


@pytest.mark.django_db
def test_co_unit_sign_for_ladder_across_national_day(world):
    # Approved on Wed 30 Sep 2026: one working day to sign for, due Thu 8 Oct (1–7 Oct off), for both units.
    case = with_co_unit(world, at(D(2026, 9, 30), 16))
    co = co_assignment(case)
    assert localdate(co.sign_for_due_at) == D(2026, 10, 8)
    sweep_days(D(2026, 9, 30), D(2026, 10, 22))
    # The default sign-for policy reminds on the morning of the day; overdue at the deadline; no levels 2/3.
    assert co_fired(case.number) == {0: D(2026, 10, 8), 1: D(2026, 10, 9)}
    power = world.power_company.pk
    co_messages = [m for m in sweep_messages(case.number) if m.payload.get("role") == "co"]
    assert [(m.topic, m.payload["clock"], m.payload["target_org_ids"], m.payload["assignment"])
            for m in co_messages] == [("case.reminder", "sign_for", [power], co.pk),
                                      ("case.overdue", "sign_for", [power], co.pk)]
    assert all(m.payload["due_at"].startswith("2026-10-08T23:59") for m in co_messages)
    rows = Escalation.objects.filter(case=case, target_org=world.power_company)
    assert sorted(rows.values_list("clock", "level")) == [("sign_for", 0), ("sign_for", 1)]
    assert {m.payload["escalation"] for m in co_messages} == set(rows.values_list("pk", flat=True))
    events = AuditEvent.objects.filter(object_type="case", object_id=case.number, after__org=power)
    assert sorted(events.values_list("action", flat=True)) == ["case.overdue", "case.reminded"]
    assert {e.after["org_name"] for e in events} == {world.power_company.name}
    assert all(e.actor_id is None for e in events)
    # The lead unit's own ladder is unchanged and still addressed to the lead unit only.
    lead_levels = sorted(m.payload["level"] for m in sweep_messages(case.number)
                         if m.payload["clock"] == "sign_for" and "role" not in m.payload)
    assert lead_levels == [0, 1, 2, 3]
    co.refresh_from_db()
    assert (co.sign_for_step, co.sign_for_step_due_at) == (1, co.sign_for_due_at)


@pytest.mark.django_db
def test_co_unit_reminded_the_working_day_before_across_a_holiday(world):
    EscalationPolicy.objects.create(clock="sign_for", remind_workdays_before=1)
    # The lead signs for at once; the power company does not. Due Thu 8 Oct, after 国庆 (1–7 Oct).
    case = with_co_unit(world, at(D(2026, 9, 30), 9), lead_signs=True)
    sweep_days(D(2026, 9, 29), D(2026, 10, 7))
    # Reminded on Wed 30 Sep, the last working day before the deadline, and not again over the holiday.
    assert co_fired(case.number) == {0: D(2026, 9, 30)}
    sweep_days(D(2026, 10, 8), D(2026, 10, 20))
    assert co_fired(case.number) == {0: D(2026, 9, 30), 1: D(2026, 10, 9)}
    # The case is being worked on meanwhile: the pending co-handling unit is chased all the same.
    assert Case.objects.get(pk=case.pk).state == State.RECTIFYING
    # Nothing of the lead unit's sign-for (it signed on time).
    assert [m.payload.get("role") for m in sweep_messages(case.number) if m.payload["clock"] == "sign_for"] \
        == ["co", "co"]


@pytest.mark.django_db
def test_nothing_after_the_co_unit_signs_for(world):
    case = with_co_unit(world, at(D(2026, 3, 2), 9), lead_signs=True)  # due Tue 3 Mar
    sweep_at(at(D(2026, 3, 3), 8))
    assert co_fired(case.number) == {0: D(2026, 3, 3)}
    with time_machine.travel(at(D(2026, 3, 3), 10), tick=False):
        services.sign_for_assignment(Case.objects.get(pk=case.pk), actor=world.co_leader)
    before = _counts()
    sweep_days(D(2026, 3, 3), D(2026, 3, 20))
    assert co_fired(case.number) == {0: D(2026, 3, 3)}
    assert Escalation.objects.filter(target_org=world.power_company).count() == 1
    assert [m.payload["clock"] for m in OutboxMessage.objects.all() if m.payload.get("role") == "co"] == ["sign_for"]
    assert co_assignment(case).sign_for_step == 0
    # The other clocks of the case go on (the progress report falls due on 9 Mar), the co unit is left alone.
    assert Escalation.objects.count() > before[0]


@pytest.mark.django_db
def test_two_sweeps_at_the_same_moment_act_once(world):
    cases = [with_co_unit(world, at(D(2026, 3, 2), 9), title=f"协办{i}", lead_signs=True) for i in range(3)]
    moment = at(D(2026, 3, 4), 10)  # every co-handling deadline (3 Mar) has passed
    first = sweep_at(moment)
    assert first.by_clock["sign_for_co"] == 3
    before = _counts()
    second = sweep_at(moment)
    assert second.acted == 0
    assert _counts() == before
    for case in cases:
        assert co_fired(case.number) == {1: D(2026, 3, 4)}  # no reminder after the fact
        # A co-handling unit's late sign-for does not raise the case's own escalation level.
        assert Case.objects.get(pk=case.pk).escalation_level == 0


@pytest.mark.django_db
def test_small_batches_reach_every_assignment_once(world):
    cases = [with_co_unit(world, at(D(2026, 3, 2), 9), title=f"协办{i}", lead_signs=True) for i in range(5)]
    result = sweep_at(at(D(2026, 3, 4), 10), batch_size=2)
    assert result.by_clock["sign_for_co"] == 5
    assert all(co_fired(case.number) == {1: D(2026, 3, 4)} for case in cases)


@pytest.mark.django_db
def test_a_new_handover_starts_a_fresh_co_ladder(world):
    case = with_co_unit(world, at(D(2026, 3, 2), 9))  # neither unit signs for; due 3 Mar
    sweep_at(at(D(2026, 3, 4), 10))
    assert co_fired(case.number) == {1: D(2026, 3, 4)}
    with time_machine.travel(at(D(2026, 3, 4), 11), tick=False):  # the lead returns it, within its window
        case = services.decline_case(Case.objects.get(pk=case.pk), actor=world.unit_leader, reason="不属于本单位职责")
        case = services.propose_handover(case, actor=world.supervisor, responsible_org=world.district,
                                         lead_org=world.lead_unit, co_orgs=[world.power_company], mode="deadline")
        case = services.approve_handover(case, actor=world.approver)
    co = co_assignment(case)
    assert localdate(co.sign_for_due_at) == D(2026, 3, 5)
    assert co.sign_for_step == 1  # left over from the first run, for the old deadline: it does not count
    sweep_days(D(2026, 3, 5), D(2026, 3, 6))
    levels = [(m.payload["level"], m.payload["due_at"][:10]) for m in sweep_messages(case.number)
              if m.payload.get("role") == "co"]
    assert levels == [(1, "2026-03-03"), (0, "2026-03-05"), (1, "2026-03-05")]


@pytest.mark.django_db
def test_the_co_unit_leader_is_told(world):
    case = with_co_unit(world, at(D(2026, 3, 2), 9), lead_signs=True)
    sweep_at(at(D(2026, 3, 3), 8))
    sweep_at(at(D(2026, 3, 4), 8))
    deliver()
    assert "co_leader" in told("case.reminder", case.number)
    assert "co_leader" in told("case.overdue", case.number)
    # The lead unit signed for: its people are not told about the power company's deadline.
    assert told("case.overdue", case.number) & {"unit_leader", "handler"} == set()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: SQLite serialises writers, so sweepers could not overlap")
@pytest.mark.django_db(transaction=True)
def test_parallel_sweepers_chase_each_co_unit_once(world):
    seed_calendar(2025, 2026)
    seed_default_time_limits()
    cases = [with_co_unit(world, at(D(2026, 3, 2), 9), title=f"并发协办{i}", lead_signs=True) for i in range(8)]
    reminded = _run_parallel(at(D(2026, 3, 3), 8), batch_size=2)
    overdue = _run_parallel(at(D(2026, 3, 4), 8), batch_size=2)
    results = [*reminded, *overdue]
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r.by_clock.get("sign_for_co", 0) for r in results if isinstance(r, SweepResult)) == 16
    messages = collections.Counter((m.payload["case"], m.payload["assignment"], m.payload["level"])
                                   for m in OutboxMessage.objects.all() if m.payload.get("role") == "co")
    assert len(messages) == 16
    assert set(messages.values()) == {1}
    assert {m[0] for m in messages} == {c.number for c in cases}
    assert Escalation.objects.filter(target_org=world.power_company).count() == 16
    events = collections.Counter(AuditEvent.objects.filter(actor_id__isnull=True, after__org=world.power_company.pk)
                                 .values_list("object_id", "action"))
    assert len(events) == 16
    assert set(events.values()) == {1}
    check = verify_chain()
    assert check.ok, check.problem
