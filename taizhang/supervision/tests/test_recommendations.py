"""监察建议: lifecycle, who may do what, illegal transitions, the reply deadline and the overdue ladder."""

import datetime as dt

import pytest
from django.utils import timezone

from taizhang.audit.models import AuditEvent
from taizhang.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from taizhang.core.models import OutboxMessage
from taizhang.notifications.models import Notification
from taizhang.supervision import policies, services, sweeper
from taizhang.supervision.models import Recommendation, ReplyTimeLimit
from taizhang.supervision.tests.helpers import draft, footprint, issued
from taizhang.testing import matrix

pytestmark = pytest.mark.django_db


def events(rec):
    return list(AuditEvent.objects.filter(object_type="recommendation", object_id=str(rec.pk))
                .order_by("seq").values_list("action", flat=True))


def test_lifecycle_draft_issue_reply_evaluate(world, case):
    rec = draft(world, cases=[case])
    assert (rec.state, rec.number) == ("draft", "")
    assert list(rec.cases.values_list("number", flat=True)) == [case.number]

    rec = services.issue_recommendation(rec.pk, actor=world.supervisor, version=rec.version)
    assert rec.state == "issued"
    assert rec.number == "CC建〔2024〕1号"
    # 30 calendar days from issue (2024-03-12), at the end of that day
    assert timezone.localtime(rec.reply_due_at).date() == dt.date(2024, 4, 11)

    rec = services.reply_to_recommendation(rec.pk, actor=world.unit_leader, reply="已建立供电保障联系机制。",
                                           evidence=[matrix.pdf_upload("机制文件.pdf")])
    assert (rec.state, rec.replied_by) == ("replied", world.unit_leader)
    assert [e.original_name for e in rec.evidence.all()] == ["机制文件.pdf"]

    rec = services.evaluate_recommendation(rec.pk, actor=world.supervisor, outcome="adopted",
                                           evaluation="措施具体，建议已采纳。")
    assert (rec.state, rec.outcome, rec.version) == ("evaluated", "adopted", 4)
    assert events(rec) == ["recommendation.created", "recommendation.issued", "recommendation.replied",
                           "recommendation.evaluated"]
    assert OutboxMessage.objects.filter(topic="recommendation.issued",
                                        payload__recommendation=rec.pk).count() == 1


# (state the recommendation is in, attempted step, refusal): nothing may change.
ILLEGAL = [
    ("draft", "reply", NotFound),  # the addressed unit does not see drafts at all
    ("draft", "evaluate", IllegalTransition),
    ("issued", "issue", IllegalTransition), ("issued", "evaluate", IllegalTransition),
    ("issued", "edit", IllegalTransition),
    ("replied", "reply", IllegalTransition), ("replied", "issue", IllegalTransition),
]


def attempt_step(world, rec, step):
    if step == "issue":
        return services.issue_recommendation(rec.pk, actor=world.supervisor)
    if step == "reply":
        return services.reply_to_recommendation(rec.pk, actor=world.unit_leader, reply="答复")
    if step == "evaluate":
        return services.evaluate_recommendation(rec.pk, actor=world.supervisor, outcome="adopted", evaluation="意见")
    return services.update_recommendation(rec.pk, actor=world.supervisor, addressed_org=world.sibling_unit,
                                          kind="supervision", title="改", problems="改", recommendations="改")


def test_illegal_transitions_are_refused_and_change_nothing(world, at_moment):
    recs = {"draft": draft(world)}
    recs["issued"] = services.issue_recommendation(draft(world).pk, actor=world.supervisor)
    recs["replied"] = services.reply_to_recommendation(
        services.issue_recommendation(draft(world).pk, actor=world.supervisor).pk, actor=world.unit_leader,
        reply="已整改。")
    for state, attempt, error in ILLEGAL:
        rec = recs[state]
        before = footprint(rec)
        with pytest.raises(error) as refused:
            attempt_step(world, rec, attempt)
        assert refused.value.status == (404 if error is NotFound else 409), (state, attempt)
        assert footprint(rec) == before, (state, attempt)


def test_only_the_addressed_unit_replies(world, at_moment):
    rec = issued(world)
    before = footprint(rec)
    refusals = {"supervisor": PermissionDenied,  # the issuing side does not answer its own recommendation
                "approver": PermissionDenied, "sibling_handler": NotFound, "co_leader": NotFound,
                "outsider": NotFound, "enterprise_user": NotFound}
    for who, error in refusals.items():
        with pytest.raises(error):
            services.reply_to_recommendation(rec.pk, actor=getattr(world, who), reply="答复")
    assert footprint(rec) == before


def test_a_handler_of_a_child_unit_replies_for_the_addressed_unit(world, at_moment):
    extras = matrix.build_extras(world)
    rec = issued(world)
    assert services.reply_to_recommendation(rec.pk, actor=extras.child_handler, reply="已整改。").state == "replied"


def test_only_the_supervising_side_evaluates(world, at_moment):
    rec = services.reply_to_recommendation(issued(world).pk, actor=world.unit_leader, reply="已整改。")
    before = footprint(rec)
    refusals = {"unit_leader": PermissionDenied, "handler": PermissionDenied, "viewer": PermissionDenied,
                "outsider": NotFound, "sibling_handler": NotFound}
    for who, error in refusals.items():
        with pytest.raises(error):
            services.evaluate_recommendation(rec.pk, actor=getattr(world, who), outcome="adopted",
                                             evaluation="意见")
    assert footprint(rec) == before


def test_bad_input_and_stale_versions_change_nothing(world, at_moment, case):
    rec = draft(world)
    before = footprint(rec)
    with pytest.raises(Conflict):
        services.issue_recommendation(rec.pk, actor=world.supervisor, version=rec.version + 1)
    with pytest.raises(ValidationFailed) as unknown_case:
        services.update_recommendation(rec.pk, actor=world.supervisor, addressed_org=world.lead_unit,
                                       kind="supervision", title="题", problems="问", recommendations="建",
                                       cases=["CC-2024-9999"])
    assert unknown_case.value.field == "cases"
    with pytest.raises(ValidationFailed):
        services.update_recommendation(rec.pk, actor=world.supervisor, addressed_org=world.lead_unit,
                                       kind="nonsense", title="题", problems="问", recommendations="建")
    assert footprint(rec) == before
    rec = services.reply_to_recommendation(services.issue_recommendation(rec.pk, actor=world.supervisor).pk,
                                           actor=world.unit_leader, reply="已整改。")
    before = footprint(rec)
    with pytest.raises(ValidationFailed):
        services.evaluate_recommendation(rec.pk, actor=world.supervisor, outcome="maybe", evaluation="意见")
    with pytest.raises(ValidationFailed):
        services.evaluate_recommendation(rec.pk, actor=world.supervisor, outcome="partly", evaluation="  ")
    assert footprint(rec) == before


def test_a_disguised_evidence_file_refuses_the_whole_reply(world, at_moment):
    rec = issued(world)
    before = footprint(rec)
    with pytest.raises(ValidationFailed):
        services.reply_to_recommendation(rec.pk, actor=world.unit_leader, reply="已整改。",
                                         evidence=[matrix.pdf_upload("伪装.pdf", matrix.EXE_BYTES)])
    assert footprint(rec) == before


def test_only_supervisors_of_the_issuing_body_or_above_draft(world, at_moment):
    with pytest.raises(PermissionDenied):
        services.create_recommendation(actor=world.unit_leader, issuing_org=world.city,
                                       addressed_org=world.lead_unit, kind="supervision", title="题",
                                       problems="问", recommendations="建")
    with pytest.raises(PermissionDenied):
        services.create_recommendation(actor=world.outsider, issuing_org=world.city,
                                       addressed_org=world.lead_unit, kind="supervision", title="题",
                                       problems="问", recommendations="建")
    assert not Recommendation.objects.exists()


def test_scope_issuer_and_above_and_addressed_subtree_see_it(world, at_moment):
    extras = matrix.build_extras(world)
    rec = draft(world)
    visible = {name for name, user in {**world.personas(), **extras.personas()}.items()
               if policies.recommendations_scope(user).filter(pk=rec.pk).exists()}
    assert visible == {"supervisor", "approver", "viewer", "dual_supervisor"}  # a draft stays with the issuer
    services.issue_recommendation(rec.pk, actor=world.supervisor)
    visible = {name for name, user in {**world.personas(), **extras.personas()}.items()
               if policies.recommendations_scope(user).filter(pk=rec.pk).exists()}
    assert visible == {"supervisor", "approver", "viewer", "dual_supervisor", "unit_leader", "handler",
                       "child_leader", "child_handler"}


def test_reply_deadline_follows_the_configured_limit_in_working_days(world, at_moment):
    ReplyTimeLimit.objects.create(kind="discipline", amount=10, unit="workdays")
    rec = issued(world, kind="discipline")
    assert timezone.localtime(rec.reply_due_at).date() == dt.date(2024, 3, 26)  # 10 working days after Tue 12th
    assert timezone.localtime(issued(world).reply_due_at).date() == dt.date(2024, 4, 11)  # other kinds: 30 days


def ladder(rec):
    fresh = Recommendation.objects.get(pk=rec.pk)
    return fresh.reply_step, fresh.escalation_level, fresh.overdue_at is not None


def test_overdue_replies_escalate_once_per_step(world, at_moment):
    rec = issued(world)
    due = rec.reply_due_at
    assert due is not None
    assert sweeper.sweep_recommendations() == 0
    at_moment.move_to(due - dt.timedelta(days=2))  # Tuesday 9 April, within three working days
    assert sweeper.sweep_recommendations() == 1
    assert ladder(rec) == (0, 0, False)
    at_moment.move_to(due + dt.timedelta(hours=1))
    assert sweeper.sweep_recommendations() == 1
    assert sweeper.sweep_recommendations() == 0  # idempotent: the step is claimed once
    assert ladder(rec) == (1, 1, True)
    overdue = OutboxMessage.objects.get(topic="recommendation.overdue")
    assert overdue.payload["target_org_ids"] == [world.lead_unit.pk, world.city.pk]
    at_moment.move_to(due + dt.timedelta(days=30))  # long past both thresholds: the ladder is climbed in order
    assert sweeper.sweep_recommendations() == 2
    assert sweeper.sweep_recommendations() == 0
    assert ladder(rec) == (3, 3, True)
    assert events(rec)[2:] == ["recommendation.reminded", "recommendation.overdue", "recommendation.escalated",
                               "recommendation.escalated"]
    levels = [m.payload["level"] for m in OutboxMessage.objects.filter(topic__in=list(sweeper.TOPICS.values()))
              .order_by("pk")]
    assert levels == [0, 1, 2, 3]
    # the supervising body hears of it: its supervisors get the overdue notice in their inbox
    from taizhang.core.outbox import deliver_pending

    deliver_pending()
    assert Notification.objects.filter(recipient=world.supervisor, topic="recommendation.overdue").count() == 1
    assert Notification.objects.filter(recipient=world.unit_leader, topic="recommendation.reminder").count() == 1


def test_a_reply_stops_the_ladder(world, at_moment):
    rec = issued(world)
    services.reply_to_recommendation(rec.pk, actor=world.handler, reply="已整改。")
    at_moment.move_to(rec.reply_due_at + dt.timedelta(days=30))  # type: ignore[operator]
    assert sweeper.sweep_recommendations() == 0
    assert ladder(rec) == (None, 0, False)


def test_a_late_reply_is_accepted_and_marked_late(world, at_moment):
    rec = issued(world)
    at_moment.move_to(rec.reply_due_at + dt.timedelta(days=1))  # type: ignore[operator]
    sweeper.sweep_recommendations()
    services.reply_to_recommendation(rec.pk, actor=world.unit_leader, reply="已整改。")
    event = AuditEvent.objects.filter(object_type="recommendation", action="recommendation.replied").get()
    assert event.after["late"] is True
