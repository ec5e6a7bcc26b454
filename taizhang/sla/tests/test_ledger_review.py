"""挂账: a case kept on the ledger returns to rectifying by itself when its approved review date comes."""

import datetime as dt

import pytest
import time_machine

from taizhang.audit.models import AuditEvent
from taizhang.audit.verify import verify_chain
from taizhang.cases import services
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.errors import IllegalTransition
from taizhang.core.models import OutboxMessage
from taizhang.core.workdays import seed_calendar
from taizhang.sla.deadlines import seed_default_time_limits
from taizhang.sla.tests.helpers import at, rectifying, sweep_at
from taizhang.testing import matrix

D = dt.date
REVIEW_ON = D(2026, 4, 1)


@pytest.fixture(autouse=True)
def _calendar(db):
    seed_calendar(2025, 2026)
    seed_default_time_limits()


def on_ledger(world, title: str, review_on: dt.date = REVIEW_ON) -> Case:
    case = rectifying(world, at(D(2026, 3, 2)), title=title)
    with time_machine.travel(at(D(2026, 3, 3)), tick=False):
        return services.put_case_on_ledger(case, actor=world.approver, review_date=review_on, reason="需跨年度实施")


def test_the_review_date_reactivates_the_case_once(world):
    case = on_ledger(world, "挂账一")
    assert (case.state, case.completion_due_at) == (State.ON_LEDGER, None)

    assert sweep_at(at(REVIEW_ON - dt.timedelta(days=1), 23, 59)).reactivated == 0
    assert Case.objects.get(pk=case.pk).state == State.ON_LEDGER

    moment = at(REVIEW_ON, 0, 5)
    assert sweep_at(moment).reactivated == 1
    after = Case.objects.get(pk=case.pk)
    assert (after.state, after.version, after.ledger_review_due_at) == (State.RECTIFYING, case.version + 1, None)
    assert after.completion_due_at is not None
    assert after.completion_due_at > moment
    assert after.next_report_due_at is not None
    assert after.next_report_due_at > moment
    assert (after.completion_step, after.progress_step) == (None, None)
    assert after.deadline_on == after.completion_due_at.astimezone(matrix.SHANGHAI).date()

    event = AuditEvent.objects.filter(object_id=case.number, action="case.ledger_review_reached").get()
    assert (event.actor_id, event.before["state"], event.after["state"]) == (None, "on_ledger", "rectifying")
    assert matrix.replay_states(case.number)[0] == State.RECTIFYING
    message = OutboxMessage.objects.filter(topic="case.ledger_review_reached").get()
    assert (message.payload["case"], message.payload["target_org_ids"]) == (case.number, [world.lead_unit.pk])

    assert sweep_at(at(REVIEW_ON, 9)).reactivated == 0  # nothing twice
    assert AuditEvent.objects.filter(action="case.ledger_review_reached").count() == 1
    assert verify_chain().ok


def test_reactivation_runs_in_batches_and_leaves_other_cases_alone(world):
    due = [on_ledger(world, f"挂账{i}") for i in range(3)]
    later = on_ledger(world, "挂账晚", review_on=REVIEW_ON + dt.timedelta(days=30))
    resumed = on_ledger(world, "挂账已恢复")
    with time_machine.travel(at(D(2026, 3, 10)), tick=False):
        resumed = services.resume_case(resumed, actor=world.supervisor, note="提前恢复")
    result = sweep_at(at(REVIEW_ON, 10), batch_size=2)
    assert result.reactivated == 3
    assert set(Case.objects.filter(pk__in=[c.pk for c in due]).values_list("state", flat=True)) == {"rectifying"}
    assert Case.objects.get(pk=later.pk).state == State.ON_LEDGER
    assert Case.objects.get(pk=resumed.pk).version == resumed.version


def test_a_form_opened_before_the_reactivation_is_stale(world):
    case = on_ledger(world, "挂账表单")
    sweep_at(at(REVIEW_ON, 1))
    with time_machine.travel(at(REVIEW_ON, 9), tick=False), pytest.raises(IllegalTransition) as caught:
        services.resume_case(case.number, actor=world.supervisor, version=case.version, note="恢复")
    assert caught.value.code == "workflow.illegal_transition"
