"""The sweeper acts once per step, through the outbox and the audit trail, and respects paused clocks."""

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils.timezone import localdate

from taizhang.audit.models import AuditEvent
from taizhang.cases import services
from taizhang.cases.models import Case
from taizhang.cases.selectors import case_timeline
from taizhang.core.models import OutboxMessage
from taizhang.sla.ladder import DEFAULT_POLICY
from taizhang.sla.models import Escalation, EscalationPolicy, SupervisionOrder
from taizhang.sla.sweeper import SWEPT, due_rows_sql, steps_for
from taizhang.sla.tests.helpers import at, fired, rectifying, report, sweep_at, sweep_messages

D = dt.date
pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return Escalation.objects.count(), OutboxMessage.objects.count(), AuditEvent.objects.count()


def test_two_sweeps_at_the_same_moment_act_once(world):
    cases = [rectifying(world, at(D(2026, 3, 2)), title=f"问题{i}") for i in range(3)]
    moment = at(D(2026, 5, 6), 10)  # long overdue: every step of both clocks is due at once
    first = sweep_at(moment)
    assert first.overdue == 6
    assert first.leadership == 6
    assert first.supervision_orders == 6
    assert first.reminders == 0  # the deadlines passed before any sweep ran: no late reminder
    before = _counts()
    second = sweep_at(moment)
    assert second.acted == 0
    assert _counts() == before
    for case in cases:
        assert Case.objects.get(pk=case.pk).escalation_level == 3
    numbers = set(SupervisionOrder.objects.values_list("number", flat=True))
    assert numbers == {f"CC督〔2026〕{n}号" for n in range(1, 7)}


def test_small_batches_reach_every_row_once(world):
    cases = [rectifying(world, at(D(2026, 3, 2)), title=f"问题{i}") for i in range(5)]
    result = sweep_at(at(D(2026, 3, 25), 10), batch_size=2)
    assert result.overdue == 10  # five cases × two clocks
    for case in cases:
        assert set(fired(case.number, "completion")) >= {1}


def test_a_reminder_is_an_audit_event_and_an_outbox_message_on_the_timeline(world):
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 3, 20))
    report(world, case, at(D(2026, 3, 6), 9))  # the progress clock runs to 13 Mar
    report(world, case, at(D(2026, 3, 13), 9))  # and then to 20 Mar
    sweep_at(at(D(2026, 3, 19), 9))
    assert {m.payload["clock"] for m in sweep_messages(case.number)} == {"completion", "progress_report"}
    [message] = [m for m in sweep_messages(case.number) if m.payload["clock"] == "completion"]
    assert message.topic == "case.reminder"
    assert message.payload["level"] == 0
    [event] = AuditEvent.objects.filter(object_id=case.number, action="case.reminded", after__clock="completion")
    assert event.actor_id is None
    assert event.after["clock"] == "completion"
    assert event.after["escalation"] == message.payload["escalation"]
    timeline = case_timeline(world.supervisor, case)
    assert timeline[-1].action == "case.reminded"
    assert Case.objects.get(pk=case.pk).escalation_level == 0


def test_a_progress_report_restarts_its_ladder(world):
    case = rectifying(world, at(D(2026, 3, 2)))
    sweep_at(at(D(2026, 3, 10), 9))  # report due 9 Mar: overdue
    assert fired(case.number, "progress_report") == {1: D(2026, 3, 10)}  # no reminder after the fact
    case = report(world, case, at(D(2026, 3, 10), 11))
    assert localdate(case.next_report_due_at) == D(2026, 3, 17)
    sweep_at(at(D(2026, 3, 18), 9))
    rows = Escalation.objects.filter(case=case, clock="progress_report", level=1)
    assert sorted(localdate(r.due_at) for r in rows) == [D(2026, 3, 9), D(2026, 3, 17)]


def test_leaving_rectification_resets_the_level_and_stops_the_ladder(world):
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 3, 6))
    sweep_at(at(D(2026, 3, 12), 9))
    case.refresh_from_db()
    assert case.escalation_level == 2
    with time_machine.travel(at(D(2026, 3, 12), 10), tick=False):
        report(world, case, at(D(2026, 3, 12), 10))
        case = services.submit_for_acceptance(case.number, actor=world.unit_leader, summary="整改完成")
    assert case.escalation_level == 0
    assert case.completion_due_at is None
    assert sweep_at(at(D(2026, 4, 30), 9)).acted == 0


def test_the_completion_clock_pauses_while_an_extension_waits_and_a_refusal_shifts_it(world):
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 3, 20))
    report(world, case, at(D(2026, 3, 16), 9))
    with time_machine.travel(at(D(2026, 3, 16), 10), tick=False):
        case = services.request_extension(case.number, actor=world.handler, requested_deadline=D(2026, 4, 30),
                                          reason="设备到货延迟")
    assert case.clock_paused_at is not None
    sweep_at(at(D(2026, 3, 26), 9))  # the old deadline passed while the request waited
    assert fired(case.number, "completion") == {}
    with time_machine.travel(at(D(2026, 3, 26), 10), tick=False):
        case = services.decide_extension(case.number, actor=world.approver, granted=False, note="理由不充分")
    # Refused after 8 working days of waiting (17–20, 23–26 Mar): the deadline moves on by as many.
    assert case.clock_paused_at is None
    assert case.deadline_on == D(2026, 4, 1)
    assert localdate(case.completion_due_at) == D(2026, 4, 1)
    sweep_at(at(D(2026, 4, 2), 9))
    assert fired(case.number, "completion") == {1: D(2026, 4, 2)}


def test_a_granted_extension_sets_the_new_deadline_and_resumes(world):
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 3, 20))
    with time_machine.travel(at(D(2026, 3, 16), 10), tick=False):
        case = services.request_extension(case.number, actor=world.handler, requested_deadline=D(2026, 4, 30),
                                          reason="设备到货延迟")
        case = services.decide_extension(case.number, actor=world.approver, granted=True)
    assert case.clock_paused_at is None
    assert localdate(case.completion_due_at) == D(2026, 4, 30)


def test_a_request_after_the_deadline_shifts_nothing(world):
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 3, 10))
    sweep_at(at(D(2026, 3, 11), 9))
    with time_machine.travel(at(D(2026, 3, 11), 10), tick=False):
        case = services.request_extension(case.number, actor=world.handler, requested_deadline=D(2026, 4, 30),
                                          reason="设备到货延迟")
    sweep_at(at(D(2026, 3, 17), 9))  # level 2 would be due now, but the clock is paused
    assert set(fired(case.number, "completion")) == {1}
    with time_machine.travel(at(D(2026, 3, 24), 10), tick=False):
        case = services.decide_extension(case.number, actor=world.approver, granted=False)
    assert localdate(case.completion_due_at) == D(2026, 3, 10)
    sweep_at(at(D(2026, 3, 24), 11))
    assert set(fired(case.number, "completion")) == {1, 2, 3}  # the paused ladder catches up, once each


def test_configured_thresholds_apply(world):
    EscalationPolicy.objects.create(clock="completion", remind_workdays_before=2, level2_after_workdays=1,
                                    level3_after_workdays=1)
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 3, 20))
    for day in range(16, 28):
        sweep_at(at(D(2026, 3, day), 9))
    assert fired(case.number, "completion") == {0: D(2026, 3, 18), 1: D(2026, 3, 21), 2: D(2026, 3, 24),
                                                3: D(2026, 3, 25)}


def test_the_bare_due_query_matches_what_the_sweeper_claims(world):
    rectifying(world, at(D(2026, 3, 2)))
    moment = at(D(2026, 3, 25), 10)
    from django.db import connection

    with time_machine.travel(moment, tick=False):
        [overdue] = [s for s in steps_for(DEFAULT_POLICY[SWEPT[2].clock], moment) if s.level == 1]
        sql, params = due_rows_sql(SWEPT[2], overdue)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert len(cursor.fetchall()) == 1
    assert sweep_at(moment).by_clock["completion"] == 1  # overdue only: level 2 comes on 26 Mar
    with time_machine.travel(moment, tick=False), connection.cursor() as cursor:
        cursor.execute(sql, params)
        assert cursor.fetchall() == []


def test_sweep_command_runs_once(world):
    rectifying(world, at(D(2026, 3, 2)))
    out = io.StringIO()
    with time_machine.travel(at(D(2026, 3, 25), 10), tick=False):
        call_command("sweep", "--once", stdout=out)
    assert "2" in out.getvalue()
    assert Escalation.objects.filter(level=1).count() == 2


def test_sweep_task_runs_the_sweeper(world):
    from taizhang.sla.tasks import sweep_clocks

    rectifying(world, at(D(2026, 3, 2)))
    with time_machine.travel(at(D(2026, 3, 25), 10), tick=False):
        result = sweep_clocks.call()
    assert result["overdue"] == 2


def test_rework_with_the_same_deadline_starts_a_fresh_ladder(world):
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 4, 10))
    report(world, case, at(D(2026, 4, 8), 9))
    sweep_at(at(D(2026, 4, 9), 9))  # reminded of the 10 April deadline
    assert fired(case.number, "completion") == {0: D(2026, 4, 9)}
    with time_machine.travel(at(D(2026, 4, 9), 10), tick=False):
        services.submit_for_acceptance(case.number, actor=world.unit_leader, summary="整改完成")
        case = services.return_for_rework(case.number, actor=world.supervisor, reason="佐证不足")
    assert localdate(case.completion_due_at) == D(2026, 4, 10)  # the agreed deadline is kept
    assert case.completion_step is None
    result = sweep_at(at(D(2026, 4, 9), 11))
    assert result.reminders == 1
    assert Escalation.objects.filter(case=case, clock="completion", level=0).count() == 2
    assert sweep_at(at(D(2026, 4, 9), 12)).acted == 0


def test_a_claimed_step_is_not_claimed_again(world):
    case = rectifying(world, at(D(2026, 3, 2)), deadline=D(2026, 3, 20))
    Case.objects.filter(pk=case.pk).update(completion_step=1)  # as if another sweeper had just claimed it
    report(world, case, at(D(2026, 3, 23), 8))
    result = sweep_at(at(D(2026, 3, 23), 9))
    assert result.overdue == 0
    assert not Escalation.objects.filter(case=case, clock="completion").exists()
