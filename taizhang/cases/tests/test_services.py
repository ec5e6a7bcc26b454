"""Guards of the workflow services beyond the table: windows, preconditions, independence, outcomes,
stale versions, merging and extensions. Every refusal must leave the case and its rows untouched."""

import datetime as dt

from taizhang.audit.models import AuditEvent
from taizhang.cases import services
from taizhang.cases.models import Assignment, Case, ExtensionRequest, FollowUp
from taizhang.cases.workflow import State
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.sla.deadlines import end_of_day
from taizhang.testing import matrix
from taizhang.testing.matrix import refused

LATER = matrix.MOMENT + dt.timedelta(hours=2)


def running_after(moment, *clocks):
    """Every clock is set and falls after `moment`."""
    return all(c is not None and c > moment for c in clocks)


def local_day(moment):
    assert moment is not None
    return moment.astimezone(matrix.SHANGHAI).date()


def test_decline_within_the_window_returns_the_case_to_assessment(world, cast):
    case = matrix.drive(cast, State.HANDED_OVER)
    assert case.decline_due_at is not None
    case = services.decline_case(case, actor=world.unit_leader, reason="不属于本单位职责")
    assert case.state == State.ASSESSING
    assert all(getattr(case, column) is None for column in services.CLOCK_COLUMNS.values())
    assert set(case.assignments.values_list("status", flat=True)) == {Assignment.Status.DECLINED,
                                                                     Assignment.Status.WITHDRAWN}


def test_decline_after_the_return_window_is_refused(world, cast, at_moment):
    case = matrix.drive(cast, State.HANDED_OVER)
    at_moment.move_to(case.decline_due_at + dt.timedelta(seconds=1))
    error = refused(ValidationFailed, "workflow.decline_window_closed", case.number, "decline", world.unit_leader,
                    reason="不属于本单位职责")
    assert "退回时限已过" in str(error.message)
    # Signing for is still possible, late.
    case = services.sign_for_case(case, actor=world.unit_leader)
    assert case.state == State.RECTIFYING


def test_submit_for_acceptance_needs_every_co_unit_done(world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(co_done=False))
    refused(ValidationFailed, "workflow.assignments_unfinished", case.number, "submit_for_acceptance",
            world.unit_leader, summary="完成")
    case = services.complete_assignment(case, actor=world.co_leader)
    case = services.submit_for_acceptance(case, actor=world.unit_leader, summary="完成")
    assert case.state == State.AWAITING_ACCEPTANCE
    assert set(case.assignments.values_list("status", flat=True)) == {Assignment.Status.DONE}


def test_submit_for_acceptance_with_a_pending_co_unit_is_refused(world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(co_signed=False, co_done=False))
    refused(ValidationFailed, "workflow.assignments_unfinished", case.number, "submit_for_acceptance",
            world.unit_leader, summary="完成")


def test_submit_for_acceptance_without_evidence_is_refused(world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(evidence=False))
    refused(ValidationFailed, "workflow.evidence_missing", case.number, "submit_for_acceptance",
            world.unit_leader, summary="完成")
    services.attach_evidence(case, matrix.pdf_upload(), actor=world.handler)
    assert services.submit_for_acceptance(case, actor=world.unit_leader, summary="完成").state == \
        State.AWAITING_ACCEPTANCE


def test_a_supervisor_who_also_handles_the_case_may_not_accept_it(world, cast, extras):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    refused(PermissionDenied, "workflow.acceptor_from_handling_unit", case.number, "accept",
            extras.dual_supervisor, checklist=matrix.passed_checklist(case), opinion="通过")
    refused(PermissionDenied, "workflow.acceptor_from_handling_unit", case.number, "return_for_rework",
            extras.dual_supervisor, reason="不足")
    assert "accept" not in [t.action for t in services.available_actions(extras.dual_supervisor, case)]
    assert services.accept_case(case, actor=world.supervisor, checklist=matrix.passed_checklist(case),
                                opinion="通过").state == State.AWAITING_FOLLOWUP


def test_accept_with_an_unmet_checklist_item_is_refused(world, cast):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    refused(ValidationFailed, "workflow.checklist_not_met", case.number, "accept", world.supervisor,
            checklist={**matrix.passed_checklist(case), "现场核查": False}, opinion="通过")
    refused(ValidationFailed, "validation.checklist_missing", case.number, "accept", world.supervisor,
            checklist={}, opinion="通过")


def test_return_for_rework_reopens_the_parts_and_keeps_the_agreed_deadline(world, cast, at_moment):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    deadline_on = case.deadline_on
    assert case.completion_due_at is None  # stopped while the acceptance is pending
    at_moment.move_to(LATER)
    case = services.return_for_rework(case, actor=world.supervisor, reason="佐证材料不足")
    assert case.state == State.RECTIFYING
    assert (case.rework_count, case.reopen_count) == (1, 0)
    assert case.deadline_on == deadline_on
    assert case.completion_due_at == end_of_day(deadline_on)
    assert running_after(LATER, case.next_report_due_at)
    assert set(case.assignments.values_list("status", flat=True)) == {Assignment.Status.SIGNED}


def test_return_for_rework_after_the_deadline_gives_a_fresh_one(world, cast, at_moment):
    case = matrix.drive(cast, State.AWAITING_ACCEPTANCE)
    late = end_of_day(case.deadline_on) + dt.timedelta(days=3)
    at_moment.move_to(late)
    case = services.return_for_rework(case, actor=world.supervisor, reason="佐证材料不足")
    assert running_after(late, case.completion_due_at)
    assert case.deadline_on == local_day(case.completion_due_at)


def test_unsatisfied_followup_sends_the_case_back_with_a_fresh_deadline(world, cast, at_moment):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    at_moment.move_to(LATER)
    case = services.record_followup(case, actor=world.liaison, solved="partly", satisfaction=2, channel="phone")
    assert case.state == State.RECTIFYING
    assert case.reopen_count == 1
    assert case.followup_due_at is None
    assert running_after(LATER, case.completion_due_at, case.next_report_due_at)
    assert case.deadline_on == local_day(case.completion_due_at)
    assert set(case.assignments.values_list("status", flat=True)) == {Assignment.Status.SIGNED}
    followup = case.followups.get()
    assert (followup.solved, followup.satisfaction, followup.override_reason) == ("partly", 2, "")


def test_solved_but_dissatisfied_is_unsatisfied(world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    case = services.record_followup(case, actor=world.enterprise_user, solved="solved", satisfaction=2)
    assert (case.state, case.reopen_count) == (State.RECTIFYING, 1)
    assert case.followups.get().channel == FollowUp.Channel.PORTAL  # the enterprise answered itself


def test_a_supervisor_may_override_an_unsatisfied_answer_with_a_reason(world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    case = services.record_followup(case, actor=world.supervisor, solved="not_solved", satisfaction=1,
                                    channel="visit", override_reason="诉求超出政策范围，已解释到位")
    assert (case.state, case.reopen_count) == (State.AWAITING_CLOSURE, 0)
    assert case.followups.get().override_reason == "诉求超出政策范围，已解释到位"
    event = AuditEvent.objects.filter(object_id=case.number).latest("seq")
    assert (event.actor_role, event.after["override_reason"]) == ("supervisor", "诉求超出政策范围，已解释到位")


def test_a_liaison_may_not_override(world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    refused(PermissionDenied, "workflow.override_not_allowed", case.number, "record_followup", world.liaison,
            solved="not_solved", satisfaction=1, channel="visit", override_reason="已解释")
    refused(PermissionDenied, "workflow.override_not_allowed", case.number, "record_followup",
            world.enterprise_user, solved="not_solved", satisfaction=1, override_reason="已解释")


def test_an_override_of_a_satisfied_answer_is_refused(world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    refused(ValidationFailed, "validation.override_not_needed", case.number, "record_followup", world.supervisor,
            solved="solved", satisfaction=5, channel="visit", override_reason="无需")


def test_an_unreachable_enterprise_keeps_the_case_awaiting_followup(world, cast, at_moment):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    due = case.followup_due_at
    at_moment.move_to(LATER)
    case = services.record_followup(case, actor=world.supervisor, solved="unreachable", channel="phone")
    assert case.state == State.AWAITING_FOLLOWUP
    assert case.followup_due_at == due  # the follow-up clock keeps running
    assert case.reopen_count == 0
    followup = case.followups.get()
    assert (followup.solved, followup.satisfaction) == ("unreachable", None)


def test_followup_needs_a_satisfaction_unless_unreachable(world, cast):
    case = matrix.drive(cast, State.AWAITING_FOLLOWUP)
    refused(ValidationFailed, "validation.invalid_choice", case.number, "record_followup", world.supervisor,
            solved="solved", channel="visit")
    refused(ValidationFailed, "validation.invalid_choice", case.number, "record_followup", world.supervisor,
            solved="perhaps", satisfaction=5, channel="visit")


def test_a_relapse_on_recheck_reopens_the_case(world, cast, at_moment):
    case = matrix.drive(cast, State.CLOSED)
    assert case.recheck_due_at is not None
    at_moment.move_to(LATER)
    case = services.record_recheck(case, actor=world.inspector, held=False, note="又出现闪断")
    assert case.state == State.RECTIFYING
    assert case.reopen_count == 1
    assert case.recheck_due_at is None
    assert running_after(LATER, case.completion_due_at, case.next_report_due_at)
    assert set(case.assignments.values_list("status", flat=True)) == {Assignment.Status.SIGNED}
    assert case.rechecks.get().held is False
    # The reopened case can go round again.
    services.attach_evidence(case, matrix.pdf_upload("复查.pdf"), actor=world.handler)
    case = services.complete_assignment(case, actor=world.co_leader)
    case = services.submit_for_acceptance(case, actor=world.unit_leader, summary="再次整改完成")
    assert case.state == State.AWAITING_ACCEPTANCE


def test_a_held_recheck_keeps_the_case_closed(world, cast):
    case = matrix.drive(cast, State.CLOSED)
    case = services.record_recheck(case, actor=world.supervisor, held=True)
    assert (case.state, case.reopen_count, case.recheck_due_at) == (State.CLOSED, 0, None)


def test_a_stale_version_is_a_conflict_and_changes_nothing(world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    stale = case.version
    services.report_progress(case, actor=world.handler, text="第一次", version=stale)
    error = refused(Conflict, "conflict.stale_version", case.number, "report_progress", world.unit_leader,
                    text="第二次", version=stale)
    assert error.params["version"] == stale + 1
    assert error.status == 409


def test_a_stale_version_for_an_action_the_new_state_forbids_is_illegal(world, cast):
    case = matrix.drive(cast, State.AWAITING_APPROVAL)
    stale = case.version
    services.approve_handover(case, actor=world.approver, version=stale)
    refused(IllegalTransition, "workflow.illegal_transition", case.number, "reject", world.approver,
            reason="不同意", version=stale)


def test_merge_into_itself_is_refused(world, cast):
    case = matrix.drive(cast, State.ASSESSING)
    refused(ValidationFailed, "validation.merge_into_self", case.number, "merge", world.supervisor,
            into=case.number, reason="重复")


def test_merge_into_a_terminal_case_is_refused(world, cast):
    case = matrix.drive(cast, State.REGISTERED)
    dismissed = matrix.drive(cast, State.DISMISSED)
    merged = matrix.drive(cast, State.MERGED)
    for terminal in (dismissed, merged):
        refused(ValidationFailed, "validation.merge_into_terminal", case.number, "merge", world.supervisor,
                into=terminal.number, reason="重复")


def test_merge_into_a_case_out_of_scope_is_not_found(world, cast, extras):
    case = matrix.drive(cast, State.REGISTERED)
    foreign = matrix.register(foreign_cast(world, extras), "外市问题")
    refused(NotFound, "not_found", case.number, "merge", world.supervisor, into=foreign.number, reason="重复")


def test_merge_points_at_the_survivor(world, cast):
    case = matrix.drive(cast, State.MERGED)
    assert case.merged_into is not None
    assert case.merged_into.state == State.REGISTERED
    assert case.merged_into.merged_cases.get() == case


def test_a_granted_extension_moves_the_deadline(world, cast, at_moment):
    case = matrix.drive(cast, State.RECTIFYING)
    wanted = case.deadline_on + dt.timedelta(days=20)
    case = services.request_extension(case, actor=world.handler, requested_deadline=wanted, reason="天气原因")
    refused(ValidationFailed, "workflow.extension_pending", case.number, "request_extension", world.unit_leader,
            requested_deadline=wanted + dt.timedelta(days=5), reason="再延")
    case = services.decide_extension(case, actor=world.approver, granted=True, note="同意")
    assert (case.deadline_on, case.completion_due_at) == (wanted, end_of_day(wanted))
    assert case.extension_requests.get().status == ExtensionRequest.Status.GRANTED


def test_a_refused_extension_keeps_the_deadline(world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(extension_pending=True))
    deadline_on, completion = case.deadline_on, case.completion_due_at
    case = services.decide_extension(case, actor=world.approver, granted=False, note="不同意")
    assert (case.deadline_on, case.completion_due_at) == (deadline_on, completion)
    assert case.extension_requests.get().status == ExtensionRequest.Status.REFUSED
    # Once decided, a new request may be made.
    services.request_extension(case, actor=world.unit_leader, reason="再申请",
                               requested_deadline=deadline_on + dt.timedelta(days=10))
    assert case.extension_requests.filter(status=ExtensionRequest.Status.PENDING).count() == 1


def test_an_extension_to_an_earlier_date_is_refused(world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    refused(ValidationFailed, "validation.deadline_not_later", case.number, "request_extension", world.handler,
            requested_deadline=case.deadline_on, reason="?")


def test_deciding_without_a_pending_request_is_refused(world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    refused(ValidationFailed, "workflow.no_extension_pending", case.number, "decide_extension", world.approver,
            granted=True)


def test_a_co_unit_reports_only_after_signing_for_its_part(world, cast):
    case = matrix.drive(cast, State.RECTIFYING, shape=matrix.Drive(co_signed=False, co_done=False))
    refused(ValidationFailed, "workflow.no_assignment", case.number, "report_progress", world.co_leader,
            text="配合进展")
    case = services.sign_for_assignment(case, actor=world.co_leader)
    case = services.report_progress(case, actor=world.co_leader, text="配合进展")
    assert case.progress_reports.latest("pk").org == world.power_company


def test_a_second_sign_for_is_refused(world, cast):
    case = matrix.drive(cast, State.HANDED_OVER)
    case = services.sign_for_case(case, actor=world.unit_leader)
    refused(IllegalTransition, "workflow.illegal_transition", case.number, "sign_for", world.unit_leader)


def test_unknown_actions_and_inputs_are_refused(world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    refused(ValidationFailed, "workflow.unknown_action", case.number, "teleport", world.handler)
    refused(ValidationFailed, "validation.unexpected_input", case.number, "report_progress", world.handler,
            text="进展", state="closed")
    refused(ValidationFailed, "validation.required", case.number, "report_progress", world.handler, text="  ")


def test_put_on_ledger_and_resume_swap_the_clocks(world, cast, at_moment):
    case = matrix.drive(cast, State.RECTIFYING)
    review = case.deadline_on + dt.timedelta(days=60)
    case = services.put_case_on_ledger(case, actor=world.approver, review_date=review, reason="长期整改")
    assert (case.state, case.completion_due_at, case.ledger_review_due_at) == (
        State.ON_LEDGER, None, end_of_day(review))
    at_moment.move_to(LATER)
    case = services.resume_case(case, actor=world.supervisor)
    assert (case.state, case.ledger_review_due_at) == (State.RECTIFYING, None)
    assert running_after(LATER, case.completion_due_at)
    assert case.deadline_on == local_day(case.completion_due_at)


def test_put_on_ledger_with_a_past_review_date_is_refused(world, cast):
    case = matrix.drive(cast, State.RECTIFYING)
    refused(ValidationFailed, "validation.date_not_future", case.number, "put_on_ledger", world.supervisor,
            review_date=matrix.MOMENT.date(), reason="长期")


def test_immediate_rectification_in_a_round_is_due_when_the_round_ends(world, at_moment):
    at_moment.move_to(dt.datetime(2022, 11, 21, 10, 0, tzinfo=matrix.SHANGHAI))
    case = matrix.drive(matrix.Cast.own(world), State.HANDED_OVER, shape=matrix.Drive(mode="immediate"))
    assert case.deadline_on == world.round.ends_on
    assert case.completion_due_at == end_of_day(world.round.ends_on)


def test_available_actions_follow_the_table_and_the_party(world, cast):
    case = matrix.drive(cast, State.HANDED_OVER)
    assert [t.action for t in services.available_actions(world.unit_leader, case)] == ["sign_for", "decline"]
    assert [t.action for t in services.available_actions(world.co_leader, case)] == ["sign_for_assignment"]
    assert services.available_actions(world.handler, case) == []
    assert services.available_actions(world.viewer, case) == []


def test_every_transition_is_one_audit_event_and_the_trail_replays(world, cast):
    case = matrix.drive(cast, State.CLOSED)
    state, transitions = matrix.replay_states(case.number)
    assert state == case.state
    assert case.version == 1 + transitions
    assert Case.objects.get(pk=case.pk).version == case.version


def foreign_cast(world, extras):
    return matrix.Cast(registrar=world.outsider, supervisor=world.outsider, approver=extras.foreign_approver,
                       lead_leader=extras.foreign_leader, lead_handler=extras.foreign_leader,
                       responsible_org=extras.foreign_unit.parent, lead_org=extras.foreign_unit)
