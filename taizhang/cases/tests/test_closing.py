"""Closing the loop: the acceptance checklist and team, follow-up rounds (unreachable, waiver), the gates
of closure, evidence after a reopening, and the enterprise's own answer through a signed link."""

import datetime as dt

import pytest
from django.core import signing

from taizhang.audit.models import AuditEvent
from taizhang.cases import followup_links, services
from taizhang.cases.checklists import FALLBACK_ITEMS, checklist_labels
from taizhang.cases.models import Acceptance, AcceptanceChecklistItem, Case, Category, FollowUp
from taizhang.cases.workflow import UNREACHABLE_ATTEMPTS_BEFORE_WAIVER, State
from taizhang.core.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.core.models import OutboxMessage
from taizhang.testing import matrix
from taizhang.testing.matrix import refused

LATER = matrix.MOMENT + dt.timedelta(hours=2)


# --- the checklist ---------------------------------------------------------------------------------

def test_the_checklist_is_inherited_down_the_category_tree(world):
    factors = world.category.parent
    other = Category.objects.create(name="政务服务")
    assert checklist_labels(world.category) == list(FALLBACK_ITEMS)  # the default set (seeded by migration)
    assert checklist_labels(None) == list(FALLBACK_ITEMS)
    AcceptanceChecklistItem.objects.create(category=factors, label="供电恢复稳定", position=1)
    AcceptanceChecklistItem.objects.create(category=factors, label="现场核查", position=0)
    AcceptanceChecklistItem.objects.create(category=factors, label="已停用", position=2, is_active=False)
    assert checklist_labels(world.category) == ["现场核查", "供电恢复稳定"]  # from the parent, in order
    assert checklist_labels(factors) == ["现场核查", "供电恢复稳定"]
    assert checklist_labels(other) == list(FALLBACK_ITEMS)
    AcceptanceChecklistItem.objects.create(category=world.category, label="线路切换完成")
    assert checklist_labels(world.category) == ["线路切换完成"]  # the nearest category wins


def test_accept_answers_exactly_the_case_checklist(world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    Case.objects.filter(pk=case.pk).update(category=world.category)
    AcceptanceChecklistItem.objects.create(category=world.category.parent, label="供电恢复稳定")
    refused(ValidationFailed, "validation.checklist_unknown_item", case.number, "accept", world.supervisor,
            checklist={"供电恢复稳定": True, "现场核查": True}, opinion="通过")
    refused(ValidationFailed, "validation.checklist_incomplete", case.number, "accept", world.supervisor,
            checklist={"供电恢复稳定": ""}, opinion="通过")
    refused(ValidationFailed, "workflow.checklist_not_met", case.number, "accept", world.supervisor,
            checklist={"供电恢复稳定": "false"}, opinion="通过")
    case = services.accept_case(case, actor=world.supervisor, checklist={"供电恢复稳定": "true"}, opinion="通过")
    assert case.acceptances.get().checklist == {"供电恢复稳定": True}


def test_an_incomplete_default_checklist_is_refused(world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    partial = dict(list(matrix.passed_checklist(case).items())[:-1])
    error = refused(ValidationFailed, "validation.checklist_incomplete", case.number, "accept", world.supervisor,
                    checklist=partial, opinion="通过")
    assert FALLBACK_ITEMS[-1] in str(error.message)


# --- the team --------------------------------------------------------------------------------------

def test_the_acceptance_team_is_recorded_with_the_actor(world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    case = services.accept_case(case, actor=world.supervisor, checklist=matrix.passed_checklist(case),
                                opinion="通过", team=[world.inspector.pk, world.approver.pk])
    acceptance = case.acceptances.get()
    assert set(acceptance.team.all()) == {world.supervisor, world.inspector, world.approver}
    event = AuditEvent.objects.filter(object_id=case.number, action="case.accepted").get()
    assert sorted(event.after["team"]) == sorted([world.supervisor.pk, world.inspector.pk, world.approver.pk])


def test_a_team_member_from_a_handling_unit_is_refused(world, cast, extras):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    inputs = {"checklist": matrix.passed_checklist(case), "opinion": "通过"}
    for member in (extras.dual_supervisor, world.handler, world.co_leader, extras.child_handler):
        error = refused(ValidationFailed, "workflow.acceptor_from_handling_unit", case.number, "accept",
                        world.supervisor, team=[world.inspector.pk, member.pk], **inputs)
        assert str(member) in str(error.message)
    refused(ValidationFailed, "workflow.acceptor_from_handling_unit", case.number, "return_for_rework",
            world.supervisor, reason="不足", team=[extras.dual_supervisor.pk])


def test_a_team_member_off_the_supervising_side_or_unknown_is_refused(world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    inputs = {"checklist": matrix.passed_checklist(case), "opinion": "通过"}
    refused(ValidationFailed, "validation.team_member_not_supervising", case.number, "accept", world.supervisor,
            team=[world.outsider.pk], **inputs)
    refused(ValidationFailed, "validation.team_member_not_supervising", case.number, "accept", world.supervisor,
            team=[world.viewer.pk], **inputs)
    refused(ValidationFailed, "validation.invalid_choice", case.number, "accept", world.supervisor,
            team=[999999], **inputs)
    refused(ValidationFailed, "validation.invalid_choice", case.number, "accept", world.supervisor,
            team=["not-an-id"], **inputs)


def test_a_handling_actor_gets_a_clear_refusal(world, cast, extras):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    error = refused(PermissionDenied, "workflow.acceptor_from_handling_unit", case.number, "accept",
                    extras.dual_supervisor, checklist=matrix.passed_checklist(case), opinion="通过")
    assert "独立于承办单位" in str(error.message)


# --- rework ----------------------------------------------------------------------------------------

def test_rework_is_counted_and_each_verdict_is_a_row(world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    failed = {**matrix.passed_checklist(case), "佐证材料齐全": False}
    case = services.return_for_rework(case, actor=world.supervisor, reason="佐证材料不全", checklist=failed)
    case = services.complete_assignment(case, actor=world.co_leader)
    case = services.submit_for_acceptance(case, actor=world.unit_leader, summary="已补充")
    case = services.return_for_rework(case, actor=world.supervisor, reason="仍不全")
    assert (case.state, case.rework_count) == (State.RECTIFYING, 2)
    verdicts = list(case.acceptances.values_list("verdict", "checklist", "opinion"))
    assert verdicts == [(Acceptance.Verdict.REWORK, failed, "佐证材料不全"), (Acceptance.Verdict.REWORK, {}, "仍不全")]
    case = services.complete_assignment(case, actor=world.co_leader)
    case = services.submit_for_acceptance(case, actor=world.unit_leader, summary="已补充")
    refused(ValidationFailed, "validation.checklist_incomplete", case.number, "return_for_rework",
            world.supervisor, reason="不足", checklist={"现场核查": False})


# --- follow-up rounds and closure ------------------------------------------------------------------

def test_unreachable_three_times_then_waived_and_closed(world, cast, at_moment):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    due = case.followup_due_at
    for attempt in range(1, UNREACHABLE_ATTEMPTS_BEFORE_WAIVER):
        case = services.record_followup(case, actor=world.supervisor, solved="unreachable", channel="phone")
        assert (case.state, case.followup_due_at) == (State.AWAITING_FOLLOWUP, due)
        assert services.unreachable_attempts(case) == attempt
        refused(ValidationFailed, "workflow.waiver_too_early", case.number, "waive_followup", world.supervisor,
                reason="联系不上")
    case = services.record_followup(case, actor=world.supervisor, solved="unreachable", channel="visit")
    refused(ValidationFailed, "validation.required", case.number, "waive_followup", world.supervisor, reason=" ")
    case = services.waive_followup(case, actor=world.supervisor, reason="三次联系均未果，企业已搬迁")
    assert (case.state, case.followup_waived_reason) == (State.AWAITING_CLOSURE, "三次联系均未果，企业已搬迁")
    assert case.followups.count() == 3  # one row per attempt
    case = services.close_case(case, actor=world.supervisor, opinion="同意销号")
    assert (case.state, case.closed_by, case.closure_opinion) == (State.CLOSED, world.supervisor, "同意销号")


def test_no_closure_without_acceptance_and_followup_whatever_the_path(world, cast):
    unaccepted = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    Case.objects.filter(pk=unaccepted.pk).update(state=State.AWAITING_CLOSURE)
    refused(IllegalTransition, "workflow.not_accepted", unaccepted.number, "close", world.supervisor, opinion="销号")

    not_followed = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    Case.objects.filter(pk=not_followed.pk).update(state=State.AWAITING_CLOSURE)
    refused(IllegalTransition, "workflow.not_followed_up", not_followed.number, "close", world.supervisor,
            opinion="销号")

    # A satisfied follow-up of an earlier round does not cover a later acceptance.
    reopened = matrix.drive(cast, State.CLOSED)
    reopened = services.record_recheck(reopened, actor=world.supervisor, held=False, note="反弹")
    services.attach_evidence(reopened, matrix.pdf_upload(), actor=world.handler)
    reopened = services.complete_assignment(reopened, actor=world.co_leader)
    reopened = services.submit_for_acceptance(reopened, actor=world.unit_leader, summary="再次整改")
    reopened = services.accept_case(reopened, actor=world.supervisor, checklist=matrix.passed_checklist(reopened),
                                    opinion="通过")
    Case.objects.filter(pk=reopened.pk).update(state=State.AWAITING_CLOSURE)
    refused(IllegalTransition, "workflow.not_followed_up", reopened.number, "close", world.supervisor,
            opinion="销号")


def test_closure_is_for_the_supervising_side_only(world, cast, extras):
    case = matrix.drive(cast, State.AWAITING_CLOSURE)
    for user in (world.unit_leader, world.liaison, world.enterprise_user, world.approver):
        refused(PermissionDenied, "workflow.action_not_allowed", case.number, "close", user, opinion="销号")
    refused(NotFound, "not_found", case.number, "close", world.outsider, opinion="销号")


def test_override_closes_the_loop_with_the_reason_on_record(world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    case = services.record_followup(case, actor=world.supervisor, solved="partly", satisfaction=2,
                                    channel="phone", override_reason="剩余诉求属市级事权，已转办")
    case = services.close_case(case, actor=world.supervisor, opinion="同意销号")
    assert case.state == State.CLOSED
    assert case.followups.get().override_reason == "剩余诉求属市级事权，已转办"


# --- evidence after a reopening --------------------------------------------------------------------

def test_evidence_from_before_a_reopening_does_not_count_again(world, cast, at_moment):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    assert case.evidence.exists()
    case = services.record_followup(case, actor=world.enterprise_user, solved="not_solved", satisfaction=1)
    assert (case.state, case.reopen_count) == (State.RECTIFYING, 1)
    case = services.complete_assignment(case, actor=world.co_leader)
    refused(ValidationFailed, "workflow.evidence_missing", case.number, "submit_for_acceptance", world.unit_leader,
            summary="二次整改完成")
    services.report_progress(case, actor=world.handler, text="二次整改", evidence=[matrix.pdf_upload("二次.pdf")])
    case = services.submit_for_acceptance(case, actor=world.unit_leader, summary="二次整改完成")
    assert case.state == State.AWAITING_ACCEPTANCE


# --- the enterprise's signed link ------------------------------------------------------------------

def issue(world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    return case, services.issue_followup_link(case, actor=world.supervisor)


def test_a_signed_link_answers_once(world, cast):
    case, link = issue(world, cast)
    assert link.enterprise == world.enterprise
    assert link.url.endswith(f"/followup-answer/{link.token}/")
    message = OutboxMessage.objects.filter(topic="case.followup_link_issued").get()
    assert (message.payload["case"], message.payload["url"]) == (case.number, link.url)

    case = services.answer_followup_by_link(link.token, solved="solved", satisfaction=4, note="已无停电")
    assert case.state == State.AWAITING_CLOSURE
    followup = case.followups.get()
    assert (followup.channel, followup.recorded_by, followup.satisfaction) == ("portal", None, 4)
    event = AuditEvent.objects.filter(object_id=case.number, action="case.followup_recorded").get()
    assert (event.actor_id, event.actor_org, event.actor_role) == (None, world.enterprise.name, "enterprise")

    before = matrix.footprint(case.number)
    with pytest.raises(IllegalTransition) as caught:
        services.answer_followup_by_link(link.token, solved="not_solved", satisfaction=1)
    assert caught.value.code == "followup.link_used"
    assert matrix.footprint(case.number) == before


def test_an_unsatisfied_answer_by_link_reopens(world, cast):
    case, link = issue(world, cast)
    case = services.answer_followup_by_link(link.token, solved="not_solved", satisfaction=1)
    assert (case.state, case.reopen_count) == (State.RECTIFYING, 1)


def expect_link_refused(token, number, error, code, **kwargs):
    before = matrix.footprint(number)
    with pytest.raises(error) as caught:
        services.answer_followup_by_link(token, solved="solved", satisfaction=5, **kwargs)
    assert caught.value.code == code
    assert matrix.footprint(number) == before


def test_expired_tampered_or_foreign_links_change_nothing(world, cast, at_moment, extras):
    case, link = issue(world, cast)
    expect_link_refused(link.token[:-2] + ("AA" if not link.token.endswith("AA") else "BB"), case.number,
                        NotFound, "followup.link_invalid")
    forged = signing.dumps({"c": case.number, "a": 1, "e": world.enterprise.pk, "n": "x", "x": 9999999999},
                           salt="another.salt")
    expect_link_refused(forged, case.number, NotFound, "followup.link_invalid")
    expect_link_refused("garbage", case.number, NotFound, "followup.link_invalid")
    expect_link_refused(link.token, case.number, NotFound, "followup.link_invalid",
                        viewer=extras.other_enterprise_user)
    at_moment.move_to(matrix.MOMENT + dt.timedelta(days=followup_links.LINK_VALID_DAYS, minutes=1))
    expect_link_refused(link.token, case.number, IllegalTransition, "followup.link_expired")


def test_a_link_goes_stale_when_the_case_moves_on(world, cast):
    case, link = issue(world, cast)
    services.record_followup(case, actor=world.supervisor, solved="solved", satisfaction=5, channel="visit")
    expect_link_refused(link.token, case.number, IllegalTransition, "followup.link_stale")


def test_only_the_supervising_side_issues_links(world, cast, extras):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    for user, error in ((world.liaison, PermissionDenied), (world.enterprise_user, PermissionDenied),
                        (world.unit_leader, PermissionDenied), (world.outsider, NotFound)):
        before = matrix.footprint(case.number)
        with pytest.raises(error):
            services.issue_followup_link(case, actor=user)
        assert matrix.footprint(case.number) == before
    rectifying = matrix.drive(cast, State.RECTIFYING)
    with pytest.raises(IllegalTransition):
        services.issue_followup_link(rectifying, actor=world.supervisor)
    assert not FollowUp.objects.exists()
