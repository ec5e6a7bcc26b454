"""The supervising side's own deadlines: follow-up (回访, `Case.followup_due_at`) and re-check (回头看,
`Case.recheck_due_at`). Each is reminded of once and flagged overdue once, to the supervising organisation,
and left alone once the follow-up or re-check is recorded."""

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
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.models import OutboxMessage
from taizhang.core.workdays import seed_calendar
from taizhang.notifications.tests.helpers import deliver, told
from taizhang.sla.deadlines import seed_default_time_limits
from taizhang.sla.models import Escalation
from taizhang.sla.sweeper import SweepResult
from taizhang.sla.tests.helpers import at, fired, sweep_at, sweep_days, sweep_messages
from taizhang.sla.tests.test_parallel import _run_parallel
from taizhang.testing.matrix import Cast, drive, passed_checklist, pdf_upload

D = dt.date


def accepted(world: Any, when: dt.datetime, *, title: str = "供电频繁闪断") -> Case:
    """A case accepted at `when`: awaiting follow-up, its follow-up clock running."""
    with time_machine.travel(when, tick=False):
        case: Case = drive(Cast.own(world), State.AWAITING_FOLLOWUP, title=title)
    return case


def closed(world: Any, when: dt.datetime, *, title: str = "供电频繁闪断") -> Case:
    """A case closed (销号) at `when`: its re-check clock running."""
    with time_machine.travel(when, tick=False):
        case: Case = drive(Cast.own(world), State.CLOSED, title=title)
    return case


def accepted_again(world: Any, case: Case, when: dt.datetime) -> Case:
    """From rectification (after an unsatisfied follow-up or a relapse) back through acceptance."""
    with time_machine.travel(when, tick=False):
        case = services.complete_assignment(Case.objects.get(pk=case.pk), actor=world.co_leader)  # reopened
        case = services.report_progress(case, actor=world.handler, text="再次整改", evidence=[pdf_upload()])
        case = services.submit_for_acceptance(case, actor=world.unit_leader, summary="已再次整改")
        return services.accept_case(case, actor=world.supervisor, checklist=passed_checklist(case), opinion="验收通过")


def _counts() -> tuple[int, int, int]:
    return Escalation.objects.count(), OutboxMessage.objects.count(), AuditEvent.objects.count()


def _check_steps(world: Any, case: Case, clock: str) -> None:
    """Levels 0 and 1 of `clock`, addressed to the supervising organisation, with rows and events to match."""
    messages = [m for m in sweep_messages(case.number) if m.payload["clock"] == clock]
    supervising = case.supervising_org_id
    assert [(m.topic, m.payload["level"], m.payload["target_org_ids"]) for m in messages] == [
        ("case.reminder", 0, [supervising]), ("case.overdue", 1, [supervising])]
    rows = Escalation.objects.filter(case=case, clock=clock)
    assert sorted(rows.values_list("level", "target_org_id")) == [(0, supervising), (1, supervising)]
    assert {m.payload["escalation"] for m in messages} == set(rows.values_list("pk", flat=True))
    events = AuditEvent.objects.filter(object_type="case", object_id=case.number, after__clock=clock)
    assert sorted(events.values_list("action", flat=True)) == ["case.overdue", "case.reminded"]
    assert all(e.actor_id is None for e in events)
    # No rung above the overdue flag, and the case's own escalation level is untouched.
    assert Case.objects.get(pk=case.pk).escalation_level == 0


@pytest.mark.django_db
def test_followup_reminded_before_spring_festival_and_flagged_at_the_deadline(world):
    # Accepted Tue 10 Feb 2026: five working days are 11, 12, 13, Sat 14 (调休) and Tue 24 Feb (15–23 off).
    case = accepted(world, at(D(2026, 2, 10), 10))
    assert localdate(case.followup_due_at) == D(2026, 2, 24)
    version = case.version
    sweep_days(D(2026, 2, 10), D(2026, 3, 3))
    # Reminded on the make-up Saturday, the last working day before the deadline; overdue once it passed.
    assert fired(case.number, "followup") == {0: D(2026, 2, 14), 1: D(2026, 2, 25)}
    _check_steps(world, case, "followup")
    assert all(m.payload["due_at"].startswith("2026-02-24T23:59") for m in sweep_messages(case.number))
    case.refresh_from_db()
    assert (case.followup_step, case.followup_step_due_at) == (1, case.followup_due_at)
    assert case.version == version  # a reminder must not make users' forms stale


@pytest.mark.django_db
def test_recheck_reminded_and_flagged_across_spring_festival(world):
    # Closed Wed 26 Nov 2025: 回头看 due 90 days later, Tue 24 Feb 2026, the first working day after 春节.
    case = closed(world, at(D(2025, 11, 26), 10))
    assert localdate(case.recheck_due_at) == D(2026, 2, 24)
    sweep_days(D(2026, 2, 11), D(2026, 3, 2))
    assert fired(case.number, "recheck") == {0: D(2026, 2, 14), 1: D(2026, 2, 25)}
    _check_steps(world, case, "recheck")
    case.refresh_from_db()
    assert (case.recheck_step, case.recheck_step_due_at) == (1, case.recheck_due_at)


@pytest.mark.django_db
def test_nothing_once_the_followup_and_the_recheck_are_recorded(world):
    case = accepted(world, at(D(2026, 3, 2), 10))  # follow-up due Mon 9 Mar
    sweep_at(at(D(2026, 3, 6), 9))
    assert fired(case.number, "followup") == {0: D(2026, 3, 6)}
    with time_machine.travel(at(D(2026, 3, 6), 10), tick=False):
        case = services.record_followup(Case.objects.get(pk=case.pk), actor=world.supervisor, solved="solved",
                                        satisfaction=5, channel="visit")
    assert case.followup_due_at is None
    sweep_days(D(2026, 3, 6), D(2026, 3, 16))
    assert fired(case.number, "followup") == {0: D(2026, 3, 6)}
    with time_machine.travel(at(D(2026, 3, 16), 10), tick=False):
        case = services.close_case(case, actor=world.supervisor, opinion="同意销号")
    due = localdate(case.recheck_due_at)
    with time_machine.travel(at(due - dt.timedelta(days=20), 10), tick=False):
        case = services.record_recheck(case, actor=world.supervisor, held=True, note="未反弹")
    assert (case.state, case.recheck_due_at) == (State.CLOSED, None)
    before = _counts()
    for day in (due - dt.timedelta(days=1), due, due + dt.timedelta(days=1), due + dt.timedelta(days=30)):
        assert sweep_at(at(day, 9)).acted == 0
    assert _counts() == before
    assert fired(case.number, "recheck") == {}
    assert Escalation.objects.filter(case=case).values_list("clock", flat=True).distinct().count() == 1


@pytest.mark.django_db
def test_an_unreachable_enterprise_keeps_the_followup_clock(world):
    case = accepted(world, at(D(2026, 3, 2), 10))  # due 9 Mar
    with time_machine.travel(at(D(2026, 3, 5), 10), tick=False):
        case = services.record_followup(case, actor=world.supervisor, solved="unreachable", channel="phone")
    assert case.state == State.AWAITING_FOLLOWUP
    sweep_days(D(2026, 3, 5), D(2026, 3, 11))
    assert fired(case.number, "followup") == {0: D(2026, 3, 6), 1: D(2026, 3, 10)}


@pytest.mark.django_db
def test_two_sweeps_at_the_same_moment_act_once(world):
    cases = [accepted(world, at(D(2026, 3, 2), 10), title=f"回访{i}") for i in range(3)]
    moment = at(D(2026, 3, 10), 10)  # every follow-up deadline (9 Mar) has passed
    first = sweep_at(moment)
    assert first.by_clock["followup"] == 3
    before = _counts()
    second = sweep_at(moment)
    assert second.acted == 0
    assert _counts() == before
    for case in cases:
        assert fired(case.number, "followup") == {1: D(2026, 3, 10)}  # no reminder after the fact
        assert Case.objects.get(pk=case.pk).escalation_level == 0


@pytest.mark.django_db
def test_small_batches_reach_every_case_once(world):
    cases = [closed(world, at(D(2026, 3, 2), 10), title=f"回头看{i}") for i in range(5)]
    due = localdate(cases[0].recheck_due_at)
    result = sweep_at(at(due + dt.timedelta(days=1), 10), batch_size=2)
    assert result.by_clock["recheck"] == 5
    assert all(fired(case.number, "recheck") == {1: due + dt.timedelta(days=1)} for case in cases)


@pytest.mark.django_db
def test_a_new_acceptance_starts_a_fresh_followup_clock(world):
    case = accepted(world, at(D(2026, 3, 2), 10))  # due 9 Mar
    sweep_at(at(D(2026, 3, 10), 10))
    assert fired(case.number, "followup") == {1: D(2026, 3, 10)}
    with time_machine.travel(at(D(2026, 3, 10), 11), tick=False):  # 二次督办: the enterprise is not satisfied
        case = services.record_followup(case, actor=world.supervisor, solved="not_solved", satisfaction=2,
                                        channel="visit")
    assert case.state == State.RECTIFYING
    sweep_at(at(D(2026, 3, 11), 10))
    assert len([m for m in sweep_messages(case.number) if m.payload["clock"] == "followup"]) == 1
    case = accepted_again(world, case, at(D(2026, 3, 12), 10))
    assert localdate(case.followup_due_at) == D(2026, 3, 19)
    assert case.followup_step == 1  # left over from the first run, for the old deadline: it does not count
    sweep_days(D(2026, 3, 12), D(2026, 3, 21))
    steps = [(m.payload["level"], m.payload["due_at"][:10]) for m in sweep_messages(case.number)
             if m.payload["clock"] == "followup"]
    assert steps == [(1, "2026-03-09"), (0, "2026-03-19"), (1, "2026-03-19")]


@pytest.mark.django_db
def test_a_relapse_closed_again_starts_a_fresh_recheck_clock(world):
    case = closed(world, at(D(2026, 3, 2), 10))
    first_due = localdate(case.recheck_due_at)
    sweep_at(at(first_due + dt.timedelta(days=1), 10))
    assert fired(case.number, "recheck") == {1: first_due + dt.timedelta(days=1)}
    relapse = at(first_due + dt.timedelta(days=2), 10)
    with time_machine.travel(relapse, tick=False):
        case = services.record_recheck(case, actor=world.supervisor, held=False, note="问题反弹")
    assert case.state == State.RECTIFYING
    case = accepted_again(world, case, relapse + dt.timedelta(hours=1))
    with time_machine.travel(relapse + dt.timedelta(hours=2), tick=False):
        case = services.record_followup(case, actor=world.supervisor, solved="solved", satisfaction=5,
                                        channel="visit")
        case = services.close_case(case, actor=world.supervisor, opinion="同意销号")
    second_due = localdate(case.recheck_due_at)
    assert second_due > first_due
    assert case.recheck_step == 1  # left over from the first run, for the old deadline: it does not count
    sweep_at(at(second_due + dt.timedelta(days=1), 10))
    steps = [(m.payload["level"], m.payload["due_at"][:10]) for m in sweep_messages(case.number)
             if m.payload["clock"] == "recheck"]
    assert steps == [(1, first_due.isoformat()), (1, second_due.isoformat())]


@pytest.mark.django_db
def test_the_supervisors_are_told(world):
    case = accepted(world, at(D(2026, 3, 2), 10))  # due 9 Mar
    sweep_at(at(D(2026, 3, 6), 9))
    sweep_at(at(D(2026, 3, 10), 9))
    deliver()
    for topic in ("case.reminder", "case.overdue"):
        people = told(topic, case.number)
        assert "supervisor" in people
        # The units have nothing to do with the supervising side's follow-up.
        assert people & {"unit_leader", "handler", "co_leader"} == set()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL: SQLite serialises writers, so sweepers could not overlap")
@pytest.mark.django_db(transaction=True)
def test_parallel_sweepers_remind_each_case_once(world):
    seed_calendar(2025, 2026)
    seed_default_time_limits()
    cases = [accepted(world, at(D(2026, 3, 2), 10), title=f"并发回访{i}") for i in range(8)]
    reminded = _run_parallel(at(D(2026, 3, 6), 9), batch_size=2)
    overdue = _run_parallel(at(D(2026, 3, 10), 9), batch_size=2)
    results = [*reminded, *overdue]
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r.by_clock.get("followup", 0) for r in results if isinstance(r, SweepResult)) == 16
    messages = collections.Counter((m.payload["case"], m.payload["level"]) for m in OutboxMessage.objects.all()
                                   if m.payload.get("clock") == "followup")
    assert len(messages) == 16
    assert set(messages.values()) == {1}
    assert {m[0] for m in messages} == {c.number for c in cases}
    assert Escalation.objects.filter(clock="followup").count() == 16
    events = collections.Counter(AuditEvent.objects.filter(actor_id__isnull=True, after__clock="followup")
                                 .values_list("object_id", "action"))
    assert len(events) == 16
    assert set(events.values()) == {1}
    check = verify_chain()
    assert check.ok, check.problem
