"""Escalation by hand (liaison, supervisor) and answers to supervision orders."""

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from taizhang.audit.models import AuditEvent
from taizhang.cases.models import Case
from taizhang.cases.workflow import State
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.core.models import OutboxMessage
from taizhang.sla.models import Escalation, SupervisionOrder
from taizhang.sla.services import escalate_case, reply_to_supervision_order, respond_to_escalation
from taizhang.sla.tests.helpers import at, rectifying, sweep_at
from taizhang.testing.matrix import Cast, drive

D = dt.date
pytestmark = pytest.mark.django_db
NOW = at(D(2026, 3, 10), 10)


@pytest.fixture
def case(world):
    return rectifying(world, at(D(2026, 3, 2)))


def test_a_liaison_escalates_a_portfolio_case_to_the_leadership(world, case):
    with time_machine.travel(NOW, tick=False):
        escalation = escalate_case(case.number, actor=world.liaison, level=2, reason="企业多次反映，进展缓慢")
    assert escalation.clock == "manual"
    assert escalation.escalated_by == world.liaison
    assert escalation.target_org_id == world.district.pk
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.escalation_level == 2
    assert fresh.version == case.version + 1
    message = OutboxMessage.objects.get(topic="case.escalated")
    assert message.payload["target_org_ids"] == [world.district.pk]
    assert message.payload["reason"] == "企业多次反映，进展缓慢"
    assert message.payload["actor"] == world.liaison.pk
    event = AuditEvent.objects.get(object_id=case.number, action="case.escalated")
    assert event.actor_id == world.liaison.pk
    assert event.before == {"escalation_level": 0, "version": case.version}


def test_a_supervisor_issues_a_supervision_order_by_hand(world, case):
    with time_machine.travel(NOW, tick=False):
        escalate_case(case, actor=world.supervisor, level=3, reason="久拖不决")
    order = SupervisionOrder.objects.get()
    assert order.number == "CC督〔2026〕1号"
    assert order.issuing_org == world.city
    assert order.addressed_org == world.lead_unit
    assert order.reply_due_at.astimezone(Case().created_at.tzinfo).date() >= D(2026, 3, 17)
    message = OutboxMessage.objects.get(topic="supervision_order.issued")
    assert message.payload["order"] == order.number
    assert message.payload["clock"] == "manual"
    assert Case.objects.get(pk=case.pk).escalation_level == 3


def test_orders_are_numbered_per_issuing_body_and_year(world):
    first = rectifying(world, at(D(2026, 3, 2)), title="一")
    second = rectifying(world, at(D(2026, 3, 2)), title="二")
    with time_machine.travel(NOW, tick=False):
        escalate_case(first, actor=world.supervisor, level=3, reason="久拖不决")
        escalate_case(second, actor=world.supervisor, level=3, reason="久拖不决")
    assert sorted(SupervisionOrder.objects.values_list("number", flat=True)) == ["CC督〔2026〕1号", "CC督〔2026〕2号"]


@pytest.mark.parametrize(("who", "error", "code"), [
    ("unit_leader", PermissionDenied, "escalation.not_allowed"),
    ("handler", PermissionDenied, "escalation.not_allowed"),
    ("approver", PermissionDenied, "escalation.not_allowed"),
    ("sibling_handler", NotFound, "not_found"),
    ("outsider", NotFound, "not_found"),
    ("admin", NotFound, "not_found"),
])
def test_others_may_not_escalate(world, case, who, error, code):
    before = Case.objects.values().get(pk=case.pk)
    with pytest.raises(error) as caught, time_machine.travel(NOW, tick=False):
        escalate_case(case, actor=getattr(world, who), level=2, reason="理由")
    assert caught.value.code == code
    assert Case.objects.values().get(pk=case.pk) == before
    assert not Escalation.objects.exists()
    assert not OutboxMessage.objects.filter(topic="case.escalated").exists()


@pytest.mark.parametrize(("level", "reason", "code"), [
    (2, "", "validation.required"),
    (2, "   ", "validation.required"),
    (1, "理由", "validation.invalid_choice"),
    (4, "理由", "validation.invalid_choice"),
    ("x", "理由", "validation.invalid_choice"),
])
def test_level_and_reason_are_checked(world, case, level, reason, code):
    with pytest.raises(ValidationFailed) as caught, time_machine.travel(NOW, tick=False), translation.override("en"):
        escalate_case(case, actor=world.supervisor, level=level, reason=reason)
    assert caught.value.code == code
    assert not Escalation.objects.exists()


def test_no_second_escalation_to_the_same_level_and_stale_versions_conflict(world, case):
    with time_machine.travel(NOW, tick=False):
        escalate_case(case, actor=world.supervisor, level=2, reason="理由")
        with pytest.raises(ValidationFailed) as caught:
            escalate_case(case, actor=world.liaison, level=2, reason="理由")
        assert caught.value.code == "escalation.already_at_level"
        with pytest.raises(Conflict):
            escalate_case(case, actor=world.supervisor, level=3, reason="理由", version=case.version)
    assert Escalation.objects.count() == 1


def test_only_open_cases_are_escalated(world):
    registered = drive(Cast.own(world), State.REGISTERED)
    with pytest.raises(IllegalTransition) as caught, time_machine.travel(NOW, tick=False):
        escalate_case(registered, actor=world.supervisor, level=2, reason="理由")
    assert caught.value.code == "escalation.not_open"


def _order(world, case):
    with time_machine.travel(NOW, tick=False):
        escalate_case(case, actor=world.supervisor, level=3, reason="久拖不决")
    return SupervisionOrder.objects.get()


def test_the_lead_units_leader_answers_the_order(world, case):
    order = _order(world, case)
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        answered = reply_to_supervision_order(order.pk, actor=world.unit_leader, text="已制定专项方案，限期完成")
    assert answered.replied_by == world.unit_leader
    assert answered.reply.startswith("已制定")
    message = OutboxMessage.objects.get(topic="supervision_order.replied")
    assert message.payload["target_org_ids"] == [world.city.pk]
    assert message.payload["late"] is False
    assert AuditEvent.objects.filter(object_id=case.number, action="supervision_order.replied").count() == 1
    with pytest.raises(IllegalTransition) as caught:
        reply_to_supervision_order(order, actor=world.unit_leader, text="再次答复")
    assert caught.value.code == "supervision_order.already_replied"
    # Answered orders never become overdue.
    assert sweep_at(at(D(2026, 4, 30), 9)).orders_overdue == 0


@pytest.mark.parametrize(("who", "error"), [("handler", PermissionDenied), ("supervisor", PermissionDenied),
                                        ("co_leader", NotFound), ("outsider", NotFound),  # no part in it
                                        ("sibling_handler", NotFound)])
def test_others_may_not_answer(world, case, who, error):
    order = _order(world, case)
    with pytest.raises(error):
        reply_to_supervision_order(order, actor=getattr(world, who), text="答复")
    assert SupervisionOrder.objects.get().replied_at is None


def test_an_empty_or_unknown_reply_is_refused(world, case):
    order = _order(world, case)
    with pytest.raises(ValidationFailed):
        reply_to_supervision_order(order, actor=world.unit_leader, text="  ")
    with pytest.raises(NotFound):
        reply_to_supervision_order(order.pk + 99, actor=world.unit_leader, text="答复")


def test_an_unanswered_order_escalates_once_and_a_late_answer_says_so(world, case):
    order = _order(world, case)
    reply_due = order.reply_due_at
    assert sweep_at(reply_due - dt.timedelta(hours=1)).orders_overdue == 0
    assert sweep_at(reply_due + dt.timedelta(minutes=1)).orders_overdue == 1
    assert sweep_at(reply_due + dt.timedelta(minutes=2)).orders_overdue == 0
    message = OutboxMessage.objects.get(topic="supervision_order.overdue")
    assert message.payload["target_org_ids"] == [world.lead_unit.pk, world.district.pk, world.city.pk]
    with time_machine.travel(reply_due + dt.timedelta(days=1), tick=False):
        reply_to_supervision_order(order, actor=world.unit_leader, text="迟复")
    assert OutboxMessage.objects.get(topic="supervision_order.replied").payload["late"] is True


@pytest.fixture
def district_leader(world):
    from taizhang.accounts.roles import Role
    from taizhang.testing.personas import person

    return person("district_leader", "净月区党工委书记", (world.district, Role.UNIT_LEADER))


def _leadership(world, case):
    with time_machine.travel(NOW, tick=False):
        return escalate_case(case, actor=world.supervisor, level=2, reason="久拖不决")


def test_the_parent_leadership_responds_to_a_level_2_escalation(world, case, district_leader):
    escalation = _leadership(world, case)
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        answered = respond_to_escalation(escalation.pk, actor=district_leader, text="已召开专题会，明确时限")
    assert answered.responded_by == district_leader
    message = OutboxMessage.objects.get(topic="case.escalation_responded")
    assert message.payload["target_org_ids"] == [world.city.pk]
    assert message.payload["late"] is False
    with pytest.raises(IllegalTransition) as caught:
        respond_to_escalation(escalation, actor=district_leader, text="再次")
    assert caught.value.code == "escalation.already_responded"


def test_only_the_leadership_responds_and_only_to_level_2(world, case, district_leader):
    escalation = _leadership(world, case)
    with pytest.raises(PermissionDenied):
        respond_to_escalation(escalation, actor=world.unit_leader, text="答复")  # the lead unit is below
    with pytest.raises(NotFound):
        respond_to_escalation(escalation, actor=world.outsider, text="答复")
    with pytest.raises(ValidationFailed):
        respond_to_escalation(escalation, actor=district_leader, text=" ")
    sweep_at(at(D(2026, 3, 26), 9))
    overdue = Escalation.objects.get(case=case, level=1, clock="completion")
    with pytest.raises(IllegalTransition) as caught:
        respond_to_escalation(overdue, actor=district_leader, text="答复")
    assert caught.value.code == "escalation.no_response_required"
    assert Escalation.objects.get(pk=escalation.pk).responded_at is None


def test_enterprises_see_escalation_steps_without_reasons_or_names(world):
    from taizhang.sla import selectors

    case = drive(Cast.own(world), State.RECTIFYING)
    escalate_case(case, actor=world.supervisor, level=2, reason="企业反映久拖不决，内部研判意见")
    [seen] = selectors.escalations_for(world.enterprise_user, case.number)
    assert (seen.level, seen.reason, seen.escalated_by) == (2, "", None)
    [internal] = selectors.escalations_for(world.supervisor, case.number)
    assert internal.reason == "企业反映久拖不决，内部研判意见"
