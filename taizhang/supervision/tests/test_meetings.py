"""会商 and 联合督查: decisions become follow-up tasks, and the linked cases' timelines show them."""

import datetime as dt

import pytest

from taizhang.cases.selectors import case_timeline
from taizhang.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.supervision import policies, services
from taizhang.supervision.models import Meeting, MeetingDecision
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db

DECISION = "供电公司会同区建设发展局于月底前完成外线切换方案。"


def meeting(world, **kwargs):
    return services.record_meeting(
        actor=world.supervisor, convening_org=world.city, kind=kwargs.get("kind", "consultation"),
        title="重点企业供电问题会商", held_on=dt.date(2024, 3, 12), location="市纪委监委会议室",
        topics="研究企业供电闪断问题整改措施。", participant_orgs=kwargs.get("orgs", [world.power_company]),
        participants=[world.co_leader])


def test_a_decision_on_a_case_shows_on_its_timeline(world, case):
    m = meeting(world)
    decision = services.add_decision(m.pk, actor=world.supervisor, text=DECISION, assignee_org=world.lead_unit,
                                     due_on=dt.date(2024, 3, 29), cases=[case.number])
    sentences = [e.sentence for e in case_timeline(world.supervisor, case)]
    assert any(DECISION in s for s in sentences)
    assert [e.action for e in case_timeline(world.handler, case)][-1] == "case.meeting_decision"
    # the enterprise sees that something was decided, not the internal text
    assert not any(DECISION in e.sentence for e in case_timeline(world.enterprise_user, case))

    services.complete_decision(decision.pk, actor=world.handler, note="切换方案已报送。")
    assert case_timeline(world.supervisor, case)[-1].action == "case.meeting_decision_done"
    with pytest.raises(IllegalTransition):
        services.complete_decision(decision.pk, actor=world.handler, note="再次标记")
    assert MeetingDecision.objects.get(pk=decision.pk).done_note == "切换方案已报送。"


def test_who_sees_a_meeting(world, at_moment):
    extras = matrix.build_extras(world)
    m = meeting(world)
    services.add_decision(m.pk, actor=world.supervisor, text=DECISION, assignee_org=world.lead_unit,
                          due_on=dt.date(2024, 3, 29))
    visible = {name for name, user in {**world.personas(), **extras.personas()}.items()
               if policies.meetings_scope(user).filter(pk=m.pk).exists()}
    assert visible == {"supervisor", "approver", "viewer", "dual_supervisor", "co_leader", "unit_leader",
                       "handler", "child_leader", "child_handler"}


def test_decisions_refuse_bad_input_and_strangers(world, at_moment):
    m = meeting(world, kind="joint_inspection")
    with pytest.raises(ValidationFailed):
        services.add_decision(m.pk, actor=world.supervisor, text=DECISION, assignee_org=world.lead_unit,
                              due_on="2024-02-30")
    with pytest.raises(ValidationFailed) as unknown:
        services.add_decision(m.pk, actor=world.supervisor, text=DECISION, assignee_org=world.lead_unit,
                              due_on="2024-03-29", cases=["CC-2024-0999"])
    assert unknown.value.field == "cases"
    with pytest.raises(PermissionDenied):
        services.add_decision(m.pk, actor=world.co_leader, text=DECISION, assignee_org=world.lead_unit,
                              due_on="2024-03-29")
    with pytest.raises(NotFound):
        services.add_decision(m.pk, actor=world.outsider, text=DECISION, assignee_org=world.lead_unit,
                              due_on="2024-03-29")
    assert not MeetingDecision.objects.exists()
    assert Meeting.objects.get(pk=m.pk).version == 1
    with pytest.raises(PermissionDenied):
        services.record_meeting(actor=world.unit_leader, convening_org=world.city, kind="consultation",
                                title="会商", held_on="2024-03-12", topics="议题")
